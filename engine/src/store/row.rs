//! The layout of a row's screening codes, which the store owns: ten slots
//! of [`SCREEN_CODE_BYTES`] opaque bytes side by side (one per known finger
//! position) and a mask of the present ones. Everyone above the store reads
//! them through [`ScreenSlot`] and [`ScreenRow`], never by offset.

use hoviyat_models::FingerPosition;

/// Bytes of one finger's screening code. The store keeps them opaque; the
/// screening encoder checks at compile time that it writes this many.
pub const SCREEN_CODE_BYTES: usize = 108;
/// Screening slots of a row: finger position codes 1..=10 (a finger of
/// unknown position has no slot).
pub const SCREEN_SLOTS: usize = 10;
/// Bytes of a row in the screening column.
pub const SCREEN_ROW_BYTES: usize = SCREEN_SLOTS * SCREEN_CODE_BYTES;

/// One finger's screening code as the store keeps it.
pub type ScreenCodeBytes = [u8; SCREEN_CODE_BYTES];

/// A slot of the screening column: the place of one known finger position
/// in every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScreenSlot(u8);

impl ScreenSlot {
    /// The slot of `position` (`None` for an unknown position).
    pub fn of(position: FingerPosition) -> Option<Self> {
        match position.code() {
            0 => None,
            code => Some(Self(code - 1)).filter(|s| s.index() < SCREEN_SLOTS),
        }
    }

    /// 0..[`SCREEN_SLOTS`].
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The slot's bit in a row's mask.
    pub(crate) fn bit(self) -> u16 {
        1 << self.0
    }
}

/// The screening codes of one stored row.
#[derive(Debug, Clone, Copy)]
pub struct ScreenRow<'a> {
    mask: u16,
    codes: &'a [u8; SCREEN_ROW_BYTES],
}

impl<'a> ScreenRow<'a> {
    /// A row of the column: `codes` must be [`SCREEN_ROW_BYTES`] long
    /// (`None` otherwise, as for a block without a screening column).
    pub(crate) fn new(mask: u16, codes: &'a [u8]) -> Option<Self> {
        Some(Self {
            mask,
            codes: codes.try_into().ok()?,
        })
    }

    /// The code in `slot`, if the row has one.
    #[inline]
    pub fn code(&self, slot: ScreenSlot) -> Option<&'a ScreenCodeBytes> {
        if self.mask & slot.bit() == 0 {
            return None;
        }
        let at = slot.index() * SCREEN_CODE_BYTES;
        self.codes[at..at + SCREEN_CODE_BYTES].try_into().ok()
    }

    /// Whether the row holds no code at all.
    pub fn is_empty(&self) -> bool {
        self.mask == 0
    }

    /// The row's bytes in the column (zeros in absent slots): what a scan
    /// prefetches.
    pub fn bytes(&self) -> &'a [u8] {
        self.codes
    }

    /// The mask of present slots (bit `s` for slot `s`).
    pub(crate) fn mask(&self) -> u16 {
        self.mask
    }
}

/// Lays `screens` out as one row of the column into `out`
/// ([`SCREEN_ROW_BYTES`], zeroed by the caller) and returns its mask.
/// Codes of an unknown position have no slot and are left out.
pub(crate) fn write_screen_row(
    out: &mut [u8],
    screens: &[(FingerPosition, ScreenCodeBytes)],
) -> u16 {
    let mut mask = 0u16;
    for (position, code) in screens {
        if let Some(slot) = ScreenSlot::of(*position) {
            let at = slot.index() * SCREEN_CODE_BYTES;
            out[at..at + SCREEN_CODE_BYTES].copy_from_slice(code);
            mask |= slot.bit();
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_position_has_its_own_slot_and_unknown_has_none() {
        assert_eq!(ScreenSlot::of(FingerPosition::Unknown), None);
        let slots: Vec<usize> = FingerPosition::TEN
            .iter()
            .map(|&p| ScreenSlot::of(p).unwrap().index())
            .collect();
        let mut sorted = slots.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, (0..SCREEN_SLOTS).collect::<Vec<_>>());
    }

    #[test]
    fn a_written_row_reads_back_by_slot() {
        let mut bytes = [0u8; SCREEN_ROW_BYTES];
        let screens = [
            (FingerPosition::LeftIndex, [7u8; SCREEN_CODE_BYTES]),
            (FingerPosition::RightThumb, [9u8; SCREEN_CODE_BYTES]),
            (FingerPosition::Unknown, [1u8; SCREEN_CODE_BYTES]),
        ];
        let mask = write_screen_row(&mut bytes, &screens);
        let row = ScreenRow::new(mask, &bytes).unwrap();
        for p in FingerPosition::TEN {
            let want = screens.iter().find(|(q, _)| *q == p).map(|(_, c)| c);
            assert_eq!(row.code(ScreenSlot::of(p).unwrap()), want, "{p:?}");
        }
        assert!(!row.is_empty());
        assert!(ScreenRow::new(mask, &bytes[1..]).is_none());
    }
}
