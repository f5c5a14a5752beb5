//! Where a bounded capture's bytes go: kept up to a limit, the overflow noted.

/// The bytes kept so far and the limit they stop at.
#[derive(Debug)]
pub(super) struct Sink {
    pub(super) buf: Vec<u8>,
    limit: usize,
    pub(super) overflowed: bool,
}

impl Sink {
    /// An empty sink writing into `buf` (cleared by the caller) up to `limit` bytes.
    pub(super) fn new(buf: Vec<u8>, limit: usize) -> Self {
        Self {
            buf,
            limit,
            overflowed: false,
        }
    }

    /// The most bytes it keeps.
    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes that can still be kept.
    pub(super) fn room(&self) -> usize {
        self.limit - self.buf.len()
    }

    /// Appends `bytes`, keeping what fits. Returns `false` once the limit is passed.
    #[inline]
    pub(super) fn keep(&mut self, bytes: &[u8]) -> bool {
        let room = self.limit - self.buf.len();
        if bytes.len() <= room {
            self.buf.extend_from_slice(bytes);
            return true;
        }
        self.buf.extend_from_slice(&bytes[..room]);
        self.overflowed = true;
        false
    }
}
