//! Answering `verify`: one struct's mismatches as an [`Error`] ([`verified`]), a list's
//! ([`Gathered`], for [`verify!`](crate::verify) and [`verify_all`](crate::verify_all)),
//! and each backend's registry of the derived structs for `verify_all` ([`Registered`],
//! `verify_registry!`). Above `report.rs`, which holds only the report itself.

use std::future::Future;
use std::pin::Pin;

use upsert_core::{Dialect as _, Postgres, Table};

use crate::error::Error;
use crate::report::{Mismatch, SchemaReport, StructReport};

/// What `verify` of struct `name` on `table` answers: `Ok` without mismatches, else one
/// [`StructReport`] inside [`Error::SchemaMismatch`]. The table is named as PostgreSQL
/// quotes it (`"schema"."table"`), on every backend.
pub(crate) fn verified(
    name: &'static str,
    table: &Table<'_>,
    mismatches: Vec<Mismatch>,
) -> Result<(), Error> {
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(Error::SchemaMismatch(SchemaReport::from(vec![
            StructReport {
                name,
                table: Postgres.quote_table(table),
                mismatches,
            },
        ])))
    }
}

/// What a registered `verify` returns.
pub type VerifyFuture<'c> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'c>>;

/// A struct's `verify` on a connection `C`, as the derive registers it for
/// [`verify_all`](crate::verify_all).
pub type RegisteredVerify<C> = for<'c> fn(&'c mut C) -> VerifyFuture<'c>;

/// A struct's `verify` on one backend's connection `C`, registered by the derive (one
/// `inventory` registry per backend) for [`verify_all`](crate::verify_all).
pub struct Registered<C: 'static> {
    /// The struct's name.
    pub name: &'static str,
    /// Runs `T::verify` on a connection.
    pub verify: RegisteredVerify<C>,
}

impl<C: 'static> Registered<C> {
    /// Every registered struct of the backend: its name and its `verify`.
    pub(crate) fn all() -> Vec<(&'static str, RegisteredVerify<C>)>
    where
        Self: inventory::Collect,
    {
        inventory::iter::<Self>()
            .map(|registered| (registered.name, registered.verify))
            .collect()
    }
}

/// A backend's registry for [`verify_all`](crate::verify_all), in the backend's `verify.rs`
/// (which has `mismatches::<T>`): the `inventory` collection, `VerifiesAll`, and the
/// autoref probe pair the derive calls, by which a struct the backend cannot take
/// registers a verify that checks nothing.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
macro_rules! verify_registry {
    (
        $name:literal: $db:ty, $conn:ty, $generated:path,
        $probe:ident, $probe_not:ident, $method:ident
    ) => {
        // The structs' `verify`s, registered by the derive with the backend's feature.
        inventory::collect!(Registered<$conn>);

        impl VerifiesAll for $db {
            fn registered() -> Vec<(&'static str, RegisteredVerify<$conn>)> {
                Registered::all()
            }
        }

        #[doc = concat!("The probe of a struct ", $name, " can take: its ", $name, " `verify`.")]
        pub trait $probe {
            #[doc = concat!("`T::verify` on ", $name, ", on a connection.")]
            fn $method(&self) -> RegisteredVerify<$conn>;
        }

        impl<T: $generated + Generated + 'static> $probe for Probe<T> {
            fn $method(&self) -> RegisteredVerify<$conn> {
                verify_struct::<T>
            }
        }

        #[doc = concat!("The probe of any other type (a struct that uses what ", $name, " lacks): nothing to check.")]
        pub trait $probe_not {
            /// A verify that checks nothing.
            fn $method(&self) -> RegisteredVerify<$conn>;
        }

        impl<T: ?Sized> $probe_not for &Probe<T> {
            fn $method(&self) -> RegisteredVerify<$conn> {
                |_| Box::pin(std::future::ready(Ok(())))
            }
        }

        #[doc = concat!("`T::verify` on ", $name, ": every mismatch in one [`Error::SchemaMismatch`].")]
        pub(super) fn verify_struct<T>(conn: &mut $conn) -> VerifyFuture<'_>
        where
            T: $generated + Generated,
        {
            Box::pin(async move {
                let mismatches = mismatches::<T>(conn).await.map_err(Error::Sqlx)?;
                verified(T::PLAN.struct_name, &T::KEY.table(), mismatches)
            })
        }
    };
}

#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) use verify_registry;

/// What [`verify!`](crate::verify) gathers: the mismatches of each struct checked, so that
/// one call reports every mismatch of a list of structs. Not public API.
#[derive(Default)]
pub struct Gathered(SchemaReport);

impl Gathered {
    /// Keeps a struct's mismatches; any other error ends the check.
    ///
    /// # Errors
    /// The struct's error, when it is not a [`SchemaMismatch`](crate::Error::SchemaMismatch).
    pub fn add(&mut self, checked: Result<(), Error>) -> Result<(), Error> {
        match checked {
            Ok(()) => Ok(()),
            Err(Error::SchemaMismatch(report)) => {
                self.0.extend(report);
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    /// `Ok` when no struct mismatched, else every mismatch in one report.
    ///
    /// # Errors
    /// [`SchemaMismatch`](crate::Error::SchemaMismatch) with every mismatching struct.
    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::SchemaMismatch(self.0))
        }
    }
}

/// Checks the listed structs against their tables, on one connection, and returns one
/// [`Error::SchemaMismatch`](crate::Error::SchemaMismatch) naming every struct that
/// mismatches: [`AtomicUpsert::verify`](crate::AtomicUpsert::verify) for a list, where
/// `verify` alone stops at the first struct. On any backend, through any executor
/// `verify` takes (`&pool`, `&mut *conn`, `&mut *tx`). [`verify_all`](crate::verify_all)
/// checks every derived struct of the program instead.
///
/// ```no_run
/// use atomic_upsert::AtomicUpsert;
///
/// #[derive(AtomicUpsert)]
/// struct Tag { #[conflict_key] name: String }
/// #[derive(AtomicUpsert)]
/// struct Label { #[conflict_key] id: i64, text: String }
///
/// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
/// atomic_upsert::verify!(&pool, Tag, Label).await?;
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! verify {
    ($executor:expr, $($ty:ty),+ $(,)?) => {
        async {
            let mut conn = $crate::sqlx::Acquire::acquire($executor)
                .await
                .map_err($crate::Error::Sqlx)?;
            let mut gathered = $crate::private::Gathered::default();
            $(
                gathered.add(<$ty as $crate::AtomicUpsert>::verify(&mut *conn).await)?;
            )+
            gathered.finish()
        }
    };
}
