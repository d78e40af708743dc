//! A counting TCP proxy in front of the server: it parses the frontend (client to server)
//! side of the PostgreSQL protocol and counts statements, round trips and pool pings.
//!
//! Only the short counting passes go through it; timed runs connect to the server directly.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// `SSLRequest` and `GSSENCRequest` codes: the client sends its startup packet after them.
const SSL_REQUEST: i32 = 80_877_103;
const GSSENC_REQUEST: i32 = 80_877_104;

/// What the proxy saw since the last [`Counts::take`].
#[derive(Default)]
pub struct Counts {
    /// `Execute` ('E') and simple `Query` ('Q') messages.
    statements: AtomicU64,
    /// Exchanges where the client waits for the server: `Sync` ('S'), simple `Query`
    /// ('Q'), and the end of a `COPY FROM STDIN` (`CopyDone`/`CopyFail`).
    round_trips: AtomicU64,
    /// `Sync` messages with nothing before them: sqlx's `Connection::ping`, which the pool
    /// sends on checkout when `test_before_acquire` is on. Included in `round_trips`.
    pings: AtomicU64,
}

/// One reading of [`Counts`].
#[derive(Clone, Copy, Default)]
pub struct Counted {
    pub statements: u64,
    pub round_trips: u64,
    pub pings: u64,
}

impl Counts {
    /// Reads and resets the counters.
    pub fn take(&self) -> Counted {
        Counted {
            statements: self.statements.swap(0, Ordering::Relaxed),
            round_trips: self.round_trips.swap(0, Ordering::Relaxed),
            pings: self.pings.swap(0, Ordering::Relaxed),
        }
    }
}

/// Listens on a free loopback port and forwards every connection to `upstream`.
pub async fn start(upstream: SocketAddr) -> io::Result<(u16, Arc<Counts>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let counts = Arc::new(Counts::default());
    let shared = Arc::clone(&counts);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let counts = Arc::clone(&shared);
            tokio::spawn(async move {
                if let Ok(server) = TcpStream::connect(upstream).await {
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (client_read, mut client_write) = client.into_split();
                    let (mut server_read, server_write) = server.into_split();
                    let backend = tokio::spawn(async move {
                        tokio::io::copy(&mut server_read, &mut client_write).await
                    });
                    let _ = frontend(client_read, server_write, &counts).await;
                    backend.abort();
                }
            });
        }
    });
    Ok((port, counts))
}

/// Forwards client messages one by one, counting them.
async fn frontend(
    from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counts: &Counts,
) -> io::Result<()> {
    let mut from = BufReader::with_capacity(1 << 16, from);
    let mut message = Vec::with_capacity(1 << 16);
    // Startup: untyped, length-prefixed packets, until the startup message itself.
    loop {
        let len = from.read_i32().await?;
        read_body(&mut from, &mut message, len).await?;
        to.write_all(&len.to_be_bytes()).await?;
        to.write_all(&message).await?;
        let code = message
            .get(..4)
            .map_or(0, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        if code != SSL_REQUEST && code != GSSENC_REQUEST {
            break;
        }
    }
    // Then typed messages: one tag byte, a length that counts itself, the body.
    let mut since_sync = 0_u64;
    loop {
        let tag = from.read_u8().await?;
        let len = from.read_i32().await?;
        read_body(&mut from, &mut message, len).await?;
        match tag {
            b'Q' => {
                counts.statements.fetch_add(1, Ordering::Relaxed);
                counts.round_trips.fetch_add(1, Ordering::Relaxed);
            }
            b'E' => {
                counts.statements.fetch_add(1, Ordering::Relaxed);
            }
            b'S' => {
                counts.round_trips.fetch_add(1, Ordering::Relaxed);
                if since_sync == 0 {
                    counts.pings.fetch_add(1, Ordering::Relaxed);
                }
            }
            b'c' | b'f' => {
                counts.round_trips.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        since_sync = if matches!(tag, b'S' | b'Q' | b'c' | b'f') {
            0
        } else {
            since_sync + 1
        };
        to.write_u8(tag).await?;
        to.write_all(&len.to_be_bytes()).await?;
        to.write_all(&message).await?;
    }
}

async fn read_body(
    from: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    message: &mut Vec<u8>,
    len: i32,
) -> io::Result<()> {
    let body = usize::try_from(len)
        .ok()
        .and_then(|len| len.checked_sub(4))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad message length"))?;
    message.resize(body, 0);
    from.read_exact(message).await?;
    Ok(())
}
