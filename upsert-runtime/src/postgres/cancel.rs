//! Cancellation: what a call leaves on its connection when its future is dropped part way
//! (a timeout, `select!`, a dropped request handler).
//!
//! sqlx keeps a connection in step across most dropped calls: it counts the replies a
//! dropped query still owes and reads them first next time, and a dropped transaction
//! queues its rollback. Two things it does not cover, which this module does:
//!
//! - **A `COPY` dropped while its data is being sent.** sqlx's `PgCopyIn` then writes a
//!   `CopyFail` whose reply it never counts, and the connection answers every later
//!   statement with the previous one's reply. [`Copying`] never lets it: a dropped `COPY`
//!   is left open, and the next message the connection sends (the rollback of the call's
//!   transaction) makes the server end the session (a message other than copy data during
//!   `COPY`: protocol violation, fatal). The connection is closed, never out of step.
//! - **A `COPY` dropped while the server acknowledges its end** (the `finish` round trip,
//!   while the server processes the rows), and **a `statement_timeout` set for a
//!   [`Retry`](crate::Retry) attempt**: no message sent afterwards can repair these. A
//!   connection the call took from a pool is closed instead of returned ([`Guarded`]). A
//!   connection the caller lends (`&mut *conn`, `&mut *tx`) stays the caller's, so no
//!   `COPY` ever runs on it: a batch or a stream staged there is loaded by `INSERT ..
//!   UNNEST` statements (`stage.rs`), which sqlx keeps in step.
//!
//! One thing neither covers is sqlx's own: `begin` and `commit` move the connection's
//! transaction depth only after their round trip (sqlx 0.9.0; sqlx#4393, fixed upstream
//! after that release). A call dropped during the `BEGIN` or `SAVEPOINT` it opens on a
//! connection the caller lends leaves sqlx a level off: outside a transaction the
//! connection stays in an open transaction; inside the caller's, the rollback sqlx queues
//! ends the caller's level, whose `commit` then does nothing. On `&PgPool` the call's own
//! connection is closed instead ([`Guarded`]).

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use sqlx::Database;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgCopyIn, Postgres};

/// A connection a call acquired from its executor: a pooled one it owns (`&PgPool`), or
/// one the caller lends. `DB` is PostgreSQL unless said otherwise (MySQL's batches use it
/// too).
///
/// ```
/// use atomic_upsert::backend::Acquired;
/// use atomic_upsert::sqlx::{PgConnection, pool::PoolConnection, Postgres};
///
/// assert!(<PoolConnection<Postgres> as Acquired>::OWNED);
/// assert!(!<&mut PgConnection as Acquired>::OWNED);
/// ```
pub trait Acquired<DB: Database = Postgres>: DerefMut<Target = DB::Connection> + Send {
    /// The call owns the connection (it took it from a pool) and can close it.
    const OWNED: bool;

    /// Closes the connection when it is dropped instead of returning it to its pool; a
    /// borrowed connection stays with its owner.
    fn close_on_drop(&mut self);
}

impl<DB: Database> Acquired<DB> for PoolConnection<DB> {
    const OWNED: bool = true;

    fn close_on_drop(&mut self) {
        PoolConnection::close_on_drop(self);
    }
}

impl Acquired for &mut PgConnection {
    const OWNED: bool = false;

    fn close_on_drop(&mut self) {}
}

#[cfg(feature = "mysql")]
impl Acquired<sqlx::mysql::MySql> for &mut sqlx::mysql::MySqlConnection {
    const OWNED: bool = false;

    fn close_on_drop(&mut self) {}
}

/// A connection that is closed (if the call owns it) unless the call reaches
/// [`Guarded::finished`]: dropped part way, the call leaves nothing to the next user.
pub(crate) struct Guarded<C: Acquired<DB>, DB: Database = Postgres> {
    conn: C,
    armed: bool,
    database: PhantomData<fn() -> DB>,
}

impl<C: Acquired<DB>, DB: Database> Guarded<C, DB> {
    pub(crate) fn new(conn: C) -> Self {
        Guarded {
            conn,
            armed: true,
            database: PhantomData,
        }
    }

    /// The call ended (with its answer or its error), or has nothing left that a drop
    /// could leave half done: the connection goes back as usual.
    pub(crate) fn finished(&mut self) {
        self.armed = false;
    }
}

impl<C: Acquired<DB>, DB: Database> Deref for Guarded<C, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.conn
    }
}

impl<C: Acquired<DB>, DB: Database> DerefMut for Guarded<C, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}

impl<C: Acquired<DB>, DB: Database> Drop for Guarded<C, DB> {
    fn drop(&mut self) {
        if self.armed {
            self.conn.close_on_drop();
        }
    }
}

/// A `COPY .. FROM STDIN` in flight. Dropped before [`finish`](Copying::finish) or
/// [`abort`](Copying::abort), it sends nothing: the server stays in copy mode until the
/// next message, a non-copy message that it answers with an error and by ending the
/// session (it lost the message boundaries). The connection is then closed: the next
/// statement on it fails, and a pool drops it at its release check.
pub(crate) struct Copying<'c> {
    copy: Option<PgCopyIn<&'c mut PgConnection>>,
}

impl<'c> Copying<'c> {
    pub(crate) fn new(copy: PgCopyIn<&'c mut PgConnection>) -> Self {
        Copying { copy: Some(copy) }
    }

    /// The `COPY` in flight. `finish` and `abort` consume the `Copying`, so it is always
    /// there; the error only keeps a broken invariant from being a panic.
    fn in_flight(
        copy: Option<PgCopyIn<&'c mut PgConnection>>,
    ) -> Result<PgCopyIn<&'c mut PgConnection>, sqlx::Error> {
        copy.ok_or_else(|| sqlx::Error::Protocol("no COPY in flight".into()))
    }

    pub(crate) async fn send(&mut self, data: Vec<u8>) -> Result<(), sqlx::Error> {
        match self.copy.as_mut() {
            Some(copy) => copy.send(data).await.map(drop),
            None => Self::in_flight(None).map(drop),
        }
    }

    pub(crate) async fn finish(mut self) -> Result<u64, sqlx::Error> {
        Self::in_flight(self.copy.take())?.finish().await
    }

    pub(crate) async fn abort(mut self, reason: &str) -> Result<(), sqlx::Error> {
        Self::in_flight(self.copy.take())?.abort(reason).await
    }
}

impl Drop for Copying<'_> {
    fn drop(&mut self) {
        if let Some(copy) = self.copy.take() {
            // Not `PgCopyIn`'s drop, whose `CopyFail` reply sqlx never reads.
            std::mem::forget(copy);
        }
    }
}
