//! The modelled file system's sizes: block, page and folio sizes, the span of file offsets
//! modelled, and the XFS modes (always_cow, zoned) that change which paths run.

/// Block, page and folio sizes, and how much of the file is modelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Filesystem block size in bytes (power of two).
    pub block_size: u64,
    /// Page size in bytes (power of two).
    pub page_size: u64,
    /// Folio sizes (in pages) the page cache may create, ascending: readahead and faults pick
    /// the largest that fits.
    pub folio_pages: Vec<u64>,
    /// Folio sizes (in pages) the 6.6+ buffered write path may create (`fgf_set_order`),
    /// ascending; usually the same list. `iomc conform` widens it to what the kernel may use.
    pub write_folio_pages: Vec<u64>,
    /// Bytes of file offset space modelled (a multiple of the largest folio).
    pub span: u64,
    /// The `reclaim` op reaches only uptodate folios. Off for checks, where `reclaim` is
    /// kswapd's and takes any clean folio; `iomc conform` turns it on because the real
    /// counterpart maps only the pages `mincore` reports (cached and uptodate): faulting in a
    /// folio that is not uptodate would read it.
    pub pageout_uptodate_only: bool,
    /// XFS's `always_cow` debug knob: every buffered write goes through the COW fork
    /// (`xfs_is_always_cow_inode`).
    pub always_cow: bool,
    /// Zoned XFS: every write out of place through the COW fork, blocks allocated at
    /// submission and mapped into the data fork at I/O completion (`xfs_is_zoned_inode`).
    pub zoned: bool,
}

impl Geometry {
    /// Pages in the modelled span.
    pub fn nr_pages(&self) -> u64 {
        self.span / self.page_size
    }
    /// File blocks in the modelled span.
    pub fn nr_blocks(&self) -> u64 {
        self.span / self.block_size
    }
    /// Largest folio the page cache may create, in pages.
    pub fn max_folio_pages(&self) -> u64 {
        self.folio_pages.iter().chain(&self.write_folio_pages).copied().max().unwrap_or(1)
    }

    /// Geometry with the same folio sizes on every path.
    pub fn new(block_size: u64, page_size: u64, folio_pages: Vec<u64>, span: u64) -> Geometry {
        Geometry {
            block_size,
            page_size,
            write_folio_pages: folio_pages.clone(),
            folio_pages,
            span,
            pageout_uptodate_only: false,
            always_cow: false,
            zoned: false,
        }
    }
    /// Round `x` down to a block boundary.
    pub fn block_down(&self, x: u64) -> u64 {
        x / self.block_size * self.block_size
    }
    /// Round `x` up to a block boundary.
    pub fn block_up(&self, x: u64) -> u64 {
        x.div_ceil(self.block_size) * self.block_size
    }
}
