//! `mapping_seek_hole_data` and `folio_seek_hole_data` (mm/filemap.c, 5.16 to 6.13 logic).

use super::{MappingState, Slot};
use crate::world::Geometry;

/// SEEK_DATA or SEEK_HOLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whence {
    /// Find the first byte of data at or after `start`.
    Data,
    /// Find the first byte of a hole at or after `start`.
    Hole,
}

/// `folio_seek_hole_data`: within one entry `[.., end)`, the first offset from `start` that is
/// data (`Whence::Data`) or a hole. Shadow entries and uptodate folios are all data; a folio
/// without per-block state that is not uptodate is all hole; otherwise per-block uptodate bits.
fn folio_seek_hole_data(st: &MappingState, geo: &Geometry, slot: Slot, mut start: u64, end: u64, data: bool) -> u64 {
    let folio = match slot {
        Slot::Folio(id) => &st.folios[id],
        _ => return if data { start } else { end },
    };
    if folio.uptodate {
        return if data { start } else { end };
    }
    if folio.ifs.is_none() {
        return if data { end } else { start };
    }
    let bsz = geo.block_size;
    let fpos = folio.pos(geo);
    let fsize = folio.size(geo);
    let mut offset = (start - fpos) & !(bsz - 1);
    loop {
        if folio.block_uptodate((offset / bsz) as usize) == data {
            break;
        }
        start = (start + bsz) & !(bsz - 1);
        offset += bsz;
        if offset >= fsize {
            break;
        }
    }
    start
}

/// `mapping_seek_hole_data` (mm/filemap.c): the first data (or hole) byte in `[start, end)`
/// of the page cache; `None` is -ENXIO (SEEK_DATA found none). SEEK_HOLE returns `end` when
/// everything is data (the implicit hole after `end - 1`).
pub fn mapping_seek_hole_data(st: &MappingState, geo: &Geometry, start: u64, end: u64, whence: Whence) -> Option<u64> {
    seek(st, geo, start, end, whence, false)
}

/// Mutation `shadow-is-hole`: [`mapping_seek_hole_data`] with shadow entries taken as holes.
pub fn seek_shadow_as_hole(st: &MappingState, geo: &Geometry, start: u64, end: u64, whence: Whence) -> Option<u64> {
    seek(st, geo, start, end, whence, true)
}

fn seek(st: &MappingState, geo: &Geometry, start: u64, end: u64, whence: Whence, shadow_is_hole: bool) -> Option<u64> {
    if end <= start {
        return None;
    }
    let data = whence == Whence::Data;
    let mut start = start;
    let ps = geo.page_size;
    let max = (end - 1) / ps;
    let mut index = start / ps;
    while index <= max && (index as usize) < st.slots.len() {
        let slot = match st.slots[index as usize] {
            Slot::Shadow if shadow_is_hole => Slot::Empty,
            slot => slot,
        };
        let (entry_pos, seek_size) = match slot {
            Slot::Empty => {
                index += 1;
                continue;
            }
            Slot::Shadow => (index * ps, ps),
            Slot::Folio(id) => (st.folios[id].pos(geo), st.folios[id].size(geo)),
        };
        if start < entry_pos {
            if !data {
                return Some(start);
            }
            start = entry_pos;
        }
        let entry_end = (entry_pos + 1).div_ceil(seek_size) * seek_size;
        start = folio_seek_hole_data(st, geo, slot, start, entry_end, data);
        if start < entry_end {
            // "if (start > end) return end": data found past `end` inside the last entry
            // comes back as `end`, which callers treat like -ENXIO.
            return Some(start.min(end));
        }
        if start >= end {
            break;
        }
        index = entry_end / ps;
    }
    if data {
        return None;
    }
    Some(start.min(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn geo(bs: u64, folio_pages: Vec<u64>, pages: u64) -> Geometry {
        Geometry::new(bs, 4096, folio_pages, pages * 4096)
    }

    /// Brute force: byte `b` is data iff its page holds a shadow entry, or a folio that is
    /// uptodate or whose block holding `b` is uptodate.
    fn is_data(st: &MappingState, geo: &Geometry, b: u64) -> bool {
        match st.slots[(b / geo.page_size) as usize] {
            Slot::Empty => false,
            Slot::Shadow => true,
            Slot::Folio(id) => {
                let f = &st.folios[id];
                f.block_uptodate(((b - f.pos(geo)) / geo.block_size) as usize)
            }
        }
    }

    fn reference(st: &MappingState, geo: &Geometry, start: u64, end: u64, whence: Whence) -> Option<u64> {
        if end <= start {
            return None;
        }
        let want = whence == Whence::Data;
        match (start..end).find(|b| is_data(st, geo, *b) == want) {
            Some(b) => Some(b),
            None if want => None,
            None => Some(end),
        }
    }

    /// Build a page cache from per-page choices: 0 empty, 1 shadow, 2 folio not uptodate,
    /// 3 folio uptodate, 4 folio with per-block bits from `bits`.
    fn build(geo: &Geometry, kinds: &[u8], sizes: &[u64], bits: &[bool]) -> MappingState {
        let n = geo.nr_pages() as usize;
        let mut st = MappingState { slots: vec![Slot::Empty; n], folios: Vec::new(), i_size: geo.span };
        let mut i = 0u64;
        let mut k = 0usize;
        let mut bit = 0usize;
        while (i as usize) < n {
            let kind = kinds[k % kinds.len()];
            let want = sizes[k % sizes.len()];
            k += 1;
            let size = if i.is_multiple_of(want) && i + want <= n as u64 { want } else { 1 };
            match kind {
                0 => {}
                1 => st.slots[i as usize] = Slot::Shadow,
                _ => {
                    let id = st.insert_folio(geo, i, size);
                    if kind == 3 {
                        st.folios[id].uptodate = true;
                    } else if kind == 4 {
                        st.iomap_page_create(geo, id);
                        if let Some(v) = st.folios[id].ifs.as_mut() {
                            for b in v.iter_mut() {
                                *b = bits[bit % bits.len()];
                                bit += 1;
                            }
                        }
                    }
                    i += size;
                    continue;
                }
            }
            i += 1;
        }
        st
    }

    #[test]
    fn shadow_entries_are_data_and_not_uptodate_folios_are_holes() {
        let g = geo(4096, vec![1], 4);
        let st = build(&g, &[1, 2, 0, 3], &[1], &[true]);
        assert_eq!(mapping_seek_hole_data(&st, &g, 0, 16384, Whence::Data), Some(0));
        assert_eq!(mapping_seek_hole_data(&st, &g, 0, 16384, Whence::Hole), Some(4096));
        assert_eq!(mapping_seek_hole_data(&st, &g, 4096, 16384, Whence::Data), Some(12288));
        assert_eq!(mapping_seek_hole_data(&st, &g, 12288, 16384, Whence::Hole), Some(16384));
        assert_eq!(mapping_seek_hole_data(&st, &g, 4096, 12288, Whence::Data), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn matches_brute_force(
            bs_shift in 9u32..=12,
            kinds in proptest::collection::vec(0u8..5, 1..8),
            sizes in proptest::collection::vec(prop_oneof![Just(1u64), Just(2), Just(4)], 1..4),
            bits in proptest::collection::vec(any::<bool>(), 1..16),
            a in 0u64..(8 * 4096),
            len in 0u64..(8 * 4096),
            hole in any::<bool>(),
        ) {
            let g = geo(1 << bs_shift, vec![1, 2, 4], 8);
            let st = build(&g, &kinds, &sizes, &bits);
            let end = (a + len).min(g.span);
            let whence = if hole { Whence::Hole } else { Whence::Data };
            let got = mapping_seek_hole_data(&st, &g, a, end, whence);
            let want = reference(&st, &g, a, end, whence);
            // The kernel clamps a SEEK_DATA hit beyond `end` (inside the entry straddling it)
            // to `end`; with no data in [a, end) that is the only other allowed answer.
            let clamped = whence == Whence::Data && want.is_none() && got == Some(end);
            prop_assert!(got == want || clamped, "got {:?}, want {:?}", got, want);
        }
    }
}
