//! Big-endian byte reading and writing with typed, offset-carrying errors.

use crate::{ModelError, Result};

/// A cursor over a record that refuses to read past its end.
///
/// Offsets in errors are absolute offsets into the whole record, so a
/// sub-reader made with [`Reader::sub`] still reports where in the file a
/// fault lies.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    format: &'static str,
    bytes: &'a [u8],
    /// Offset of `bytes[0]` in the whole record.
    base: usize,
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(format: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            format,
            bytes,
            base: 0,
            pos: 0,
        }
    }

    pub(crate) fn format(&self) -> &'static str {
        self.format
    }

    /// Absolute offset of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.truncated(n));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Splits off the next `n` bytes as a reader of their own.
    pub(crate) fn sub(&mut self, n: usize) -> Result<Reader<'a>> {
        let base = self.offset();
        let bytes = self.take(n)?;
        Ok(Reader {
            format: self.format,
            bytes,
            base,
            pos: 0,
        })
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Fails unless `count` items of `item_len` bytes each fit in what is
    /// left; call it before allocating for `count` items.
    pub(crate) fn ensure_items(&self, count: usize, item_len: usize) -> Result<()> {
        let needed = count.saturating_mul(item_len);
        if needed > self.remaining() {
            return Err(self.truncated(needed));
        }
        Ok(())
    }

    /// Fails with [`ModelError::LengthMismatch`] unless every byte was read.
    pub(crate) fn finish(&self, field: &'static str) -> Result<()> {
        if self.remaining() != 0 {
            return Err(ModelError::LengthMismatch {
                format: self.format,
                field,
                declared: self.bytes.len(),
                actual: self.pos,
            });
        }
        Ok(())
    }

    pub(crate) fn invalid(&self, field: &'static str, offset: usize, value: u64) -> ModelError {
        ModelError::InvalidField {
            format: self.format,
            field,
            offset,
            value,
        }
    }

    fn truncated(&self, needed: usize) -> ModelError {
        ModelError::Truncated {
            format: self.format,
            offset: self.offset(),
            needed,
            available: self.remaining(),
        }
    }
}

/// Big-endian writer helpers on a byte vector.
pub(crate) trait PutBe {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
}

impl PutBe for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_reports_absolute_offsets_when_short() {
        let bytes = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];
        let mut r = Reader::new("t", &bytes);
        assert_eq!(r.u8().unwrap(), 1);
        let mut sub = r.sub(4).unwrap();
        assert_eq!(sub.u16().unwrap(), 0x0203);
        assert_eq!(
            sub.u32(),
            Err(ModelError::Truncated {
                format: "t",
                offset: 3,
                needed: 4,
                available: 2
            })
        );
        assert!(matches!(
            sub.finish("block"),
            Err(ModelError::LengthMismatch {
                declared: 4,
                actual: 2,
                ..
            })
        ));
        assert_eq!(r.remaining(), 2);
        assert!(r.ensure_items(usize::MAX, 6).is_err());
        assert!(r.ensure_items(1, 2).is_ok());
    }
}
