//! The PostgreSQL connections of one store, on a thread of their own.
//!
//! [`StateStore`](crate::state::StateStore) is synchronous and is called from
//! the engine's async tasks (as sled is: a flush blocks too). The connections
//! live on a dedicated thread with a current-thread tokio runtime; a store call
//! hands that thread a job and waits for its answer. On a worker of a
//! multi-thread runtime the wait runs inside `block_in_place`, so the other
//! tasks (vendor calls in flight) move to another worker meanwhile; elsewhere
//! it is a plain blocking wait, which cannot deadlock because the connections
//! are driven by their own thread. Making the trait async instead would touch
//! every vendor folder, which other engineers are porting.
//!
//! Every wait is bounded: connecting by the URL's `connect_timeout` (10 s by
//! default), each statement by `statement_timeout`, and each call by
//! [`CALL_TIMEOUT`] on top.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio_postgres::Client;
use tokio_postgres::config::SslMode;

use super::super::location::PgTarget;
use super::super::{StateError, StateResult};

/// The longest a store call waits for its answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(90);
/// Server-side bound on one statement of the data connection.
const STATEMENT_TIMEOUT_MS: u32 = 60_000;

/// The clients a job may use.
pub struct Clients {
    /// Queries and transactions.
    pub data: Client,
    /// The connection that holds the session advisory lock (writers only).
    pub lock: Option<Client>,
    /// Set once the lock connection has ended: the lock is gone with it.
    pub lock_closed: Arc<AtomicBool>,
}

impl Clients {
    pub fn lock_lost(&self) -> bool {
        self.lock_closed.load(Ordering::SeqCst) || self.lock.as_ref().is_some_and(|c| c.is_closed())
    }
}

type Job = Box<dyn FnOnce(Arc<Clients>) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

pub struct Worker {
    jobs: Option<tokio::sync::mpsc::UnboundedSender<Job>>,
    thread: Option<JoinHandle<()>>,
    location: String,
}

pub fn db_error(operation: &'static str) -> impl Fn(tokio_postgres::Error) -> StateError {
    move |e| StateError::Io {
        operation,
        message: describe(&e),
    }
}

/// The server's message (with its SQLSTATE) or the driver's; never a password.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "PostgreSQL: {} (SQLSTATE {})",
            db.message(),
            db.code().code()
        ),
        None => format!("PostgreSQL: {e}"),
    }
}

fn tls() -> tokio_postgres_rustls::MakeRustlsConnect {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b.with_root_certificates(roots).with_no_client_auth(),
        // The aws-lc-rs provider supports the default versions; keep the
        // plain default configuration if that ever changes.
        Err(_) => rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    };
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

async fn connect(
    config: &tokio_postgres::Config,
    closed: Option<Arc<AtomicBool>>,
) -> Result<(Client, tokio::task::JoinHandle<()>), tokio_postgres::Error> {
    macro_rules! drive {
        ($connection:expr) => {{
            let connection = $connection;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %describe(&e), "PostgreSQL connection ended");
                }
                if let Some(flag) = closed {
                    flag.store(true, Ordering::SeqCst);
                }
            })
        }};
    }
    if config.get_ssl_mode() == SslMode::Disable {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
        Ok((client, drive!(connection)))
    } else {
        let (client, connection) = config.connect(tls()).await?;
        Ok((client, drive!(connection)))
    }
}

impl Worker {
    /// Connects (a data connection, and a lock connection when `lock`) on a new
    /// thread; fails naming the database (never the password).
    pub fn start(target: &PgTarget, application: &str, lock: bool) -> StateResult<Worker> {
        let location = target.to_string();
        let data_config = target.config(application);
        let lock_config = target.config(&format!("{application} (lock)"));
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<(), String>>(1);
        let (jobs, mut queue) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("mspform-postgres".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot start a runtime: {e}")));
                        return;
                    }
                };
                rt.block_on(async move {
                    let lock_closed = Arc::new(AtomicBool::new(false));
                    let mut tasks = Vec::new();
                    let data = match connect(&data_config, None).await {
                        Ok((c, t)) => {
                            tasks.push(t);
                            c
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(describe(&e)));
                            return;
                        }
                    };
                    let settings = format!(
                        "SET statement_timeout = {STATEMENT_TIMEOUT_MS}; SET idle_in_transaction_session_timeout = {STATEMENT_TIMEOUT_MS}"
                    );
                    if let Err(e) = data.batch_execute(&settings).await {
                        let _ = ready_tx.send(Err(describe(&e)));
                        return;
                    }
                    let lock = if lock {
                        match connect(&lock_config, Some(lock_closed.clone())).await {
                            Ok((c, t)) => {
                                tasks.push(t);
                                Some(c)
                            }
                            Err(e) => {
                                let _ = ready_tx.send(Err(describe(&e)));
                                return;
                            }
                        }
                    } else {
                        None
                    };
                    let clients = Arc::new(Clients {
                        data,
                        lock,
                        lock_closed,
                    });
                    let _ = ready_tx.send(Ok(()));
                    while let Some(job) = queue.recv().await {
                        job(clients.clone()).await;
                    }
                    // Closing the clients ends the sessions (and the lock with them).
                    drop(clients);
                    for t in tasks {
                        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
                    }
                });
            })
            .map_err(|e| StateError::Open {
                dir: location.clone(),
                message: format!("cannot start the PostgreSQL thread: {e}"),
            })?;
        let ready = ready_rx.recv_timeout(CALL_TIMEOUT);
        let fail = |message: String| StateError::Open {
            dir: location.clone(),
            message,
        };
        match ready {
            Ok(Ok(())) => Ok(Worker {
                jobs: Some(jobs),
                thread: Some(thread),
                location,
            }),
            Ok(Err(message)) => Err(fail(format!("cannot connect: {message}"))),
            Err(_) => Err(fail(format!(
                "no connection within {} s",
                CALL_TIMEOUT.as_secs()
            ))),
        }
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    /// Runs `f` on the connections' thread and waits (bounded) for its answer.
    pub fn call<T, F, Fut>(&self, operation: &'static str, f: F) -> StateResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Clients>) -> Fut + Send + 'static,
        Fut: Future<Output = StateResult<T>> + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job: Job = Box::new(move |clients| {
            Box::pin(async move {
                let _ = tx.send(f(clients).await);
            })
        });
        let gone = || StateError::Io {
            operation,
            message: format!("the connection to {} is closed", self.location),
        };
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        let wait = || rx.recv_timeout(CALL_TIMEOUT);
        let answer = match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        };
        match answer {
            Ok(result) => result,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(StateError::Io {
                operation,
                message: format!(
                    "{} did not answer within {} s",
                    self.location,
                    CALL_TIMEOUT.as_secs()
                ),
            }),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(gone()),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
