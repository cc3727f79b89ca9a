//! A cursor over the pickle's bytes. Every read checks the remaining length first, so a length
//! field larger than the input fails before anything is allocated.

use crate::pickle::{PickleError, Result};

/// A cursor over the input. Every read checks the remaining length first.
pub(super) struct Reader<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Takes `n` bytes, where `n` may come straight from a length field in the
    /// input: it is compared with what remains before anything is sliced or
    /// allocated.
    pub(super) fn take(&mut self, n: u64, what: &'static str, op_at: usize) -> Result<&'a [u8]> {
        let available = self.remaining();
        match usize::try_from(n) {
            Ok(n) if n <= available => {
                let start = self.pos;
                self.pos += n;
                Ok(self.data.get(start..start + n).unwrap_or_default())
            }
            _ => Err(PickleError::Truncated {
                what,
                offset: op_at,
                needed: n,
                available,
            }),
        }
    }

    pub(super) fn array<const N: usize>(
        &mut self,
        what: &'static str,
        op_at: usize,
    ) -> Result<[u8; N]> {
        let bytes = self.take(N as u64, what, op_at)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(super) fn u8(&mut self, what: &'static str, op_at: usize) -> Result<u8> {
        Ok(self.array::<1>(what, op_at)?[0])
    }

    /// A text argument of protocol 0: everything up to the next `\n` (excluded).
    pub(super) fn line(&mut self, what: &'static str, op_at: usize) -> Result<&'a [u8]> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        match rest.iter().position(|&b| b == b'\n') {
            Some(n) => {
                self.pos += n + 1;
                Ok(&rest[..n])
            }
            None => Err(PickleError::Truncated {
                what,
                offset: op_at,
                needed: rest.len() as u64 + 1,
                available: rest.len(),
            }),
        }
    }
}
