//! [`EncryptedMatrix`]: a matrix tiled into blocks, one ciphertext per block.

use crate::{Error, Layout, Matrix, Result};
use hetal_ckks::backend::{SlotBackend, SlotClient};
use rayon::prelude::*;

/// A matrix stored as a grid of ciphertexts, one per `s0 x s1` block, with its logical shape
/// and its [`Layout`] (block shape and tiling) as data.
///
/// Encryption and decryption take a [`SlotClient`] (the key holder); everything else only needs
/// the server's [`SlotBackend`].
///
/// ```
/// use hetal_ckks::backend::{PlainBackend, ScaleChain};
/// use hetal_linalg::{BlockShape, EncryptedMatrix, Layout, Matrix};
/// # fn main() -> hetal_linalg::Result<()> {
/// let client = PlainBackend::new(64, ScaleChain::uniform(4, 40.0));
/// let m = Matrix::from_fn(10, 20, |i, j| (i + j) as f64);
/// let layout = Layout::plain(BlockShape::new(8, 8, 64)?);
/// let enc = EncryptedMatrix::<PlainBackend>::encrypt(&client, &m, layout, 4)?;
/// assert_eq!(enc.grid(), (2, 3));
/// assert_eq!(enc.decrypt(&client)?, m);
/// # Ok(())
/// # }
/// ```
pub struct EncryptedMatrix<B: SlotBackend> {
    rows: usize,
    cols: usize,
    layout: Layout,
    grid: (usize, usize),
    blocks: Vec<B::Ct>,
}

impl<B: SlotBackend> Clone for EncryptedMatrix<B> {
    fn clone(&self) -> Self {
        Self {
            rows: self.rows,
            cols: self.cols,
            layout: self.layout,
            grid: self.grid,
            blocks: self.blocks.clone(),
        }
    }
}

impl<B: SlotBackend> std::fmt::Debug for EncryptedMatrix<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedMatrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("layout", &self.layout)
            .field("grid", &self.grid)
            .finish_non_exhaustive()
    }
}

impl<B: SlotBackend> EncryptedMatrix<B> {
    /// Encrypts `m` in `layout` at `level` with the key holder's `client` (whose ciphertexts
    /// are `B`'s, e.g. the client of a [`CountingBackend`](hetal_ckks::backend::CountingBackend)
    /// is its inner backend).
    pub fn encrypt<C>(client: &C, m: &Matrix, layout: Layout, level: usize) -> Result<Self>
    where
        C: SlotClient<Ct = B::Ct>,
    {
        check_slots("EncryptedMatrix::encrypt", client.slots(), layout)?;
        let grid = layout.grid(m.rows(), m.cols())?;
        let blocks = (0..grid.0 * grid.1)
            .into_par_iter()
            .map(|k| {
                let values = layout.pack(m, k / grid.1, k % grid.1);
                client.encrypt_real(&values, level).map_err(Error::from)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            rows: m.rows(),
            cols: m.cols(),
            layout,
            grid,
            blocks,
        })
    }

    /// Assembles a matrix from ciphertexts already in `layout` (row-major grid); `Err` if the
    /// number of blocks does not match the grid of a `rows x cols` matrix.
    pub fn from_blocks(
        rows: usize,
        cols: usize,
        layout: Layout,
        blocks: Vec<B::Ct>,
    ) -> Result<Self> {
        let grid = layout.grid(rows, cols)?;
        if blocks.len() != grid.0 * grid.1 {
            return Err(Error::ShapeMismatch {
                op: "EncryptedMatrix::from_blocks",
                reason: format!("{} blocks for a {} x {} grid", blocks.len(), grid.0, grid.1),
            });
        }
        Ok(Self {
            rows,
            cols,
            layout,
            grid,
            blocks,
        })
    }

    /// Decrypts with the key holder's `client` (for tiled layouts, the first copy is read).
    pub fn decrypt<C>(&self, client: &C) -> Result<Matrix>
    where
        C: SlotClient<Ct = B::Ct>,
    {
        check_slots("EncryptedMatrix::decrypt", client.slots(), self.layout)?;
        let plain = self
            .blocks
            .par_iter()
            .map(|ct| client.decrypt_real(ct).map_err(Error::from))
            .collect::<Result<Vec<_>>>()?;
        Ok(Matrix::from_fn(self.rows, self.cols, |i, j| {
            let (p, q, slot) = self.layout.locate(i, j);
            plain[p * self.grid.1 + q][slot]
        }))
    }

    /// Logical number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Logical number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The layout (block shape and tiling).
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The block grid `(block rows, block columns)`.
    pub fn grid(&self) -> (usize, usize) {
        self.grid
    }

    /// Block `(p, q)`; `None` outside the grid.
    pub fn block(&self, p: usize, q: usize) -> Option<&B::Ct> {
        (p < self.grid.0 && q < self.grid.1).then(|| &self.blocks[p * self.grid.1 + q])
    }

    /// All blocks, row-major over the grid.
    pub fn blocks(&self) -> &[B::Ct] {
        &self.blocks
    }

    /// The lowest level among the blocks (the level the matrix can be used at).
    pub fn level(&self, backend: &B) -> usize {
        self.blocks
            .iter()
            .map(|ct| backend.level(ct))
            .min()
            .unwrap_or(0)
    }
}

pub(crate) fn check_slots(op: &'static str, slots: usize, layout: Layout) -> Result<()> {
    if layout.block.slots() != slots {
        return Err(Error::InvalidBlockShape {
            rows: layout.block.rows(),
            cols: layout.block.cols(),
            slots,
            reason: format!("the backend has {slots} slots ({op})"),
        });
    }
    Ok(())
}
