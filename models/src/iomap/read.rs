//! The buffered read path (mm/filemap.c `filemap_read`, fs/iomap `iomap_read_folio`).

use super::{iomap_block_needs_zeroing, IomapOps, IomapType, IterFlags};
use crate::events::What;
use crate::pagecache::{filemap_get_folio, FolioCreate, LockedFolio};
use crate::world::Ctx;

/// `iomap_read_folio` → `iomap_readpage_iter` (fs/iomap/buffered-io.c, 6.1 and 6.2): fill the
/// blocks of a locked folio that are not uptodate, from fresh read mappings (`ops`: XFS's
/// `xfs_read_iomap_begin` under ILOCK shared): zeroes for holes, delalloc, unwritten and
/// beyond EOF, disk contents for written extents.
pub fn iomap_read_folio(cx: &Ctx<'_>, ops: &dyn IomapOps, folio: &LockedFolio<'_>) {
    read_folio_unless_uptodate(cx, ops, folio, None);
}

/// `filemap_update_page` (mm/filemap.c, 6.1 to 6.18) for a read of `want` (`[pos, end)`,
/// cut at the folio and EOF) from a locked folio: `filemap_range_uptodate` →
/// `iomap_is_partially_uptodate` leaves a folio alone whose blocks under the read are
/// uptodate; otherwise `filemap_read_folio` → [`iomap_read_folio`]. Both checks are made in
/// the step that takes the xarray lock first, as the kernel makes them under the folio lock.
fn read_folio_unless_uptodate(cx: &Ctx<'_>, ops: &dyn IomapOps, folio: &LockedFolio<'_>, want: Option<(u64, u64)>) {
    let w = cx.w;
    let geo = &w.geo;
    let bs = geo.block_size;
    let fpos = folio.pos(geo);
    let fsize = folio.size(geo);
    let (i_size, missing): (u64, Vec<u64>) = {
        let mut st = w.mapping.i_pages.lock();
        if st.folios[folio.id].uptodate {
            return;
        }
        if let Some((pos, end)) = want {
            let stop = end.min(fpos + fsize).min(st.i_size);
            let f = &st.folios[folio.id];
            let first = ((pos.max(fpos) - fpos) / bs) as usize;
            let last = (stop.saturating_sub(fpos)).div_ceil(bs) as usize;
            if stop > pos && (first..last).all(|b| f.block_uptodate(b)) {
                return;
            }
        }
        st.iomap_page_create(geo, folio.id);
        let f = &st.folios[folio.id];
        let missing = (0..fsize / bs).filter(|i| !f.block_uptodate(*i as usize)).map(|i| fpos + i * bs).collect();
        (st.i_size, missing)
    };
    // iomap_iter: one ->iomap_begin per extent (the mapping covers the whole extent), then
    // iomap_readpage_iter over the folio's blocks inside it; the next block past it maps again.
    let mut map: Option<super::Iomap> = None;
    for block in &missing {
        let covered = map.as_ref().is_some_and(|m| m.offset <= *block && *block < m.offset + m.length);
        if !covered {
            let flags = IterFlags::default();
            // A read mapping cannot fail in the model (no I/O errors on the extent tree).
            let Ok(m) = ops.iomap_begin(cx, *block, fpos + fsize - block, flags) else { return };
            map = Some(m);
        }
        let Some(map) = map.as_ref() else { return };
        let data = if iomap_block_needs_zeroing(map, *block, i_size) {
            vec![0u8; bs as usize]
        } else {
            w.disk.read(map.addr + (block - map.offset), bs)
        };
        let mut st = w.mapping.i_pages.lock();
        let b0 = (block - fpos) as usize;
        st.folios[folio.id].data[b0..b0 + bs as usize].copy_from_slice(&data);
        let ty = if *block >= i_size { IomapType::Hole } else { map.ty };
        cx.ev("iomap_readpage_iter", What::ReadIn { from: *block, to: block + bs, ty });
        st.iomap_set_range_uptodate(geo, folio.id, *block, bs);
    }
}

/// `filemap_read` (mm/filemap.c, 6.1 and 6.2) with the filesystem's read iomap `ops`: copy
/// `[pos, pos+len)` (cut at EOF) out of the page cache, reading folios in (readahead creates
/// large folios where allowed).
pub fn filemap_read(cx: &Ctx<'_>, ops: &dyn IomapOps, pos: u64, len: u64) -> Vec<u8> {
    let w = cx.w;
    let geo = &w.geo;
    let mut out = Vec::new();
    let mut p = pos;
    let end = pos + len;
    while p < end {
        // filemap_get_pages: a cached, uptodate folio is copied without its lock.
        let cached = {
            let st = w.mapping.i_pages.lock();
            let i_size = st.i_size;
            if p >= i_size {
                break;
            }
            st.folio_at_pos(geo, p).and_then(|id| {
                let f = &st.folios[id];
                let fend = f.pos(geo) + f.size(geo);
                let stop = fend.min(end).min(i_size);
                let fpos = f.pos(geo);
                f.uptodate.then(|| f.data[(p - fpos) as usize..(stop - fpos) as usize].to_vec())
            })
        };
        if let Some(bytes) = cached {
            p += bytes.len() as u64;
            out.extend(bytes);
            continue;
        }
        let Some(folio) = filemap_get_folio(cx, p / geo.page_size, FolioCreate::Readahead) else {
            break;
        };
        read_folio_unless_uptodate(cx, ops, &folio, Some((p, end)));
        let mut st = w.mapping.i_pages.lock();
        let i_size = st.i_size;
        let f = &st.folios[folio.id];
        let fpos = f.pos(geo);
        let stop = (fpos + f.size(geo)).min(end).min(i_size).max(p);
        out.extend_from_slice(&f.data[(p - fpos) as usize..(stop - fpos) as usize]);
        folio.unlock_put(cx, &mut st);
        if stop == p {
            break;
        }
        p = stop;
    }
    out
}
