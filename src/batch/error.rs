//! What stops `batch`, `handin`, `merge` or `pack` as a whole (an unreadable
//! class folder, an unwritable `OUT`, shards that do not fit together): the
//! grader's own fault, one line and exit status 2. A fault on one
//! submission is that submission's `status: error`, never one of these.

use crate::project::ProjectError;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Whether it is only the reader of the output gone away.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}
