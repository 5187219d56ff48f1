//! Plain matrices, block shapes and tilings: where each matrix entry lives in which slot.

use crate::{Error, Result};
use std::fmt;

/// A dense real matrix in row-major order: the plaintext the client encrypts and decrypts, and
/// the `f64` oracle of the tests.
///
/// ```
/// use hetal_linalg::Matrix;
/// let a = Matrix::from_fn(2, 3, |i, j| (i * 3 + j) as f64);
/// let b = a.transpose();
/// let p = a.matmul(&b).unwrap();
/// assert_eq!((p.rows(), p.cols()), (2, 2));
/// assert_eq!(p.get(0, 1), 0.0 * 3.0 + 1.0 * 4.0 + 2.0 * 5.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A `rows x cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// The matrix with entries `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> f64) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Self { rows, cols, data }
    }

    /// A matrix from row-major data; `Err` if `data.len() != rows * cols`.
    ///
    /// ```
    /// use hetal_linalg::Matrix;
    /// assert!(Matrix::from_row_major(2, 2, vec![1.0, 2.0, 3.0, 4.0]).is_ok());
    /// assert!(Matrix::from_row_major(2, 2, vec![1.0]).is_err());
    /// ```
    pub fn from_row_major(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(Error::ShapeMismatch {
                op: "Matrix::from_row_major",
                reason: format!("{} values for a {rows} x {cols} matrix", data.len()),
            });
        }
        Ok(Self { rows, cols, data })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Entry `[i, j]`.
    ///
    /// # Panics
    /// If the index is out of range.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        assert!(i < self.rows && j < self.cols, "index out of range");
        self.data[i * self.cols + j]
    }

    /// The row-major data.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The transpose.
    pub fn transpose(&self) -> Self {
        Self::from_fn(self.cols, self.rows, |i, j| self.get(j, i))
    }

    /// The product `self · other` in `f64`; `Err` if the inner dimensions differ.
    pub fn matmul(&self, other: &Matrix) -> Result<Self> {
        if self.cols != other.rows {
            return Err(Error::ShapeMismatch {
                op: "Matrix::matmul",
                reason: format!(
                    "{} x {} times {} x {}",
                    self.rows, self.cols, other.rows, other.cols
                ),
            });
        }
        let mut out = Self::zeros(self.rows, other.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.data[i * self.cols + k];
                if a == 0.0 {
                    continue;
                }
                let row = &other.data[k * other.cols..(k + 1) * other.cols];
                let dst = &mut out.data[i * other.cols..(i + 1) * other.cols];
                for (d, &b) in dst.iter_mut().zip(row) {
                    *d += a * b;
                }
            }
        }
        Ok(out)
    }

    /// The largest absolute entry-wise difference; `Err` if the shapes differ.
    pub fn max_abs_diff(&self, other: &Matrix) -> Result<f64> {
        if (self.rows, self.cols) != (other.rows, other.cols) {
            return Err(Error::ShapeMismatch {
                op: "Matrix::max_abs_diff",
                reason: format!(
                    "{} x {} vs {} x {}",
                    self.rows, self.cols, other.rows, other.cols
                ),
            });
        }
        Ok(self
            .data
            .iter()
            .zip(&other.data)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs())))
    }
}

/// The shape `s0 x s1` of the block one ciphertext holds, row-major: slot `r * s1 + l` holds
/// block entry `[r, l]`, and `s0 * s1` is the number of slots.
///
/// ```
/// use hetal_linalg::BlockShape;
/// // HETAL's rule: s0 = min(max(batch, c'), n / c'), c' = classes rounded up to a power of two.
/// let shape = BlockShape::select(1 << 15, 1024, 10).unwrap();
/// assert_eq!((shape.rows(), shape.cols()), (1024, 32));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockShape {
    rows: usize,
    cols: usize,
}

impl BlockShape {
    /// An `s0 x s1` block for `slots` slots: both powers of two with `s0 * s1 = slots`.
    pub fn new(rows: usize, cols: usize, slots: usize) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidBlockShape {
            rows,
            cols,
            slots,
            reason: reason.to_string(),
        };
        if !rows.is_power_of_two() || !cols.is_power_of_two() {
            return Err(bad("both sides must be powers of two"));
        }
        if rows.checked_mul(cols) != Some(slots) {
            return Err(bad("s0 * s1 must equal the number of slots"));
        }
        Ok(Self { rows, cols })
    }

    /// HETAL's block shape for a mini-batch of `batch` rows and `classes` classes on `slots`
    /// slots: `c' = max(2, 2^ceil(log2 classes))`, `s0 = min(max(batch', c'), slots / c')` with
    /// `batch'` the batch rounded up to a power of two, `s1 = slots / s0`.
    ///
    /// `Err` if `slots` is not a power of two or `c'² > slots` (then `c'` divides neither side).
    pub fn select(slots: usize, batch: usize, classes: usize) -> Result<Self> {
        let period = class_period(classes);
        if !slots.is_power_of_two() || period.saturating_mul(period) > slots {
            return Err(Error::InvalidBlockShape {
                rows: 0,
                cols: 0,
                slots,
                reason: format!(
                    "no block shape fits {classes} classes (period {period}) in {slots} slots"
                ),
            });
        }
        let batch = batch.max(1).next_power_of_two();
        let rows = batch.max(period).min(slots / period);
        Self::new(rows, slots / rows, slots)
    }

    /// Rows `s0`.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns `s1`.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Slots `s0 * s1`.
    pub fn slots(&self) -> usize {
        self.rows * self.cols
    }
}

/// `c' = max(2, 2^ceil(log2 c))`: the period a class dimension of size `c` is padded to.
///
/// ```
/// assert_eq!(hetal_linalg::class_period(10), 16);
/// assert_eq!(hetal_linalg::class_period(1), 2);
/// ```
pub fn class_period(classes: usize) -> usize {
    classes.max(2).next_power_of_two()
}

/// How a matrix is laid out over its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tiling {
    /// Zero-padded `ceil(rows/s0) x ceil(cols/s1)` grid of blocks: block `(p, q)` entry
    /// `[r, l]` is `M[p*s0 + r, q*s1 + l]`.
    Plain,
    /// Tiled vertically with a period (`period | s0`, `rows <= period`): one block row of
    /// `ceil(cols/s1)` blocks, block `q` entry `[r, l]` is `M[r mod period, q*s1 + l]` (zero
    /// where `r mod period >= rows`). HETAL's layout of the weights `W` and of `Aᵀ B`.
    Vertical {
        /// The row period `c'`.
        period: usize,
    },
    /// Tiled horizontally with a period (`period | s1`, `cols <= period`): one block column of
    /// `ceil(rows/s0)` blocks, block `p` entry `[r, l]` is `M[p*s0 + r, l mod period]`.
    /// HETAL's layout of the logits `X Wᵀ` and of `P - Y`.
    Horizontal {
        /// The column period `c'`.
        period: usize,
    },
}

/// A block shape and a tiling: everything needed to place a matrix into ciphertexts.
///
/// ```
/// use hetal_linalg::{BlockShape, Layout, Tiling};
/// let block = BlockShape::new(4, 16, 64).unwrap();
/// let layout = Layout::new(block, Tiling::Vertical { period: 4 });
/// assert_eq!(layout.grid(3, 20).unwrap(), (1, 2));
/// assert!(layout.grid(5, 20).is_err()); // 5 rows do not fit a period of 4
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    /// The block shape `s0 x s1`.
    pub block: BlockShape,
    /// The tiling.
    pub tiling: Tiling,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s0, s1) = (self.block.rows, self.block.cols);
        match self.tiling {
            Tiling::Plain => write!(f, "plain {s0}x{s1} blocks"),
            Tiling::Vertical { period } => {
                write!(f, "{s0}x{s1} blocks tiled vertically (period {period})")
            }
            Tiling::Horizontal { period } => {
                write!(f, "{s0}x{s1} blocks tiled horizontally (period {period})")
            }
        }
    }
}

impl Layout {
    /// A layout from its parts (checked against a shape by [`grid`](Self::grid)).
    pub fn new(block: BlockShape, tiling: Tiling) -> Self {
        Self { block, tiling }
    }

    /// Plain tiling.
    pub fn plain(block: BlockShape) -> Self {
        Self::new(block, Tiling::Plain)
    }

    /// Vertical tiling with `period`.
    pub fn vertical(block: BlockShape, period: usize) -> Self {
        Self::new(block, Tiling::Vertical { period })
    }

    /// Horizontal tiling with `period`.
    pub fn horizontal(block: BlockShape, period: usize) -> Self {
        Self::new(block, Tiling::Horizontal { period })
    }

    /// The block grid `(block rows, block columns)` of a `rows x cols` matrix in this layout;
    /// `Err` if the matrix does not fit (empty, more rows/columns than the period, a period that
    /// does not divide the block side).
    pub fn grid(&self, rows: usize, cols: usize) -> Result<(usize, usize)> {
        let (s0, s1) = (self.block.rows, self.block.cols);
        let mismatch = |reason: String| Error::ShapeMismatch {
            op: "Layout::grid",
            reason,
        };
        if rows == 0 || cols == 0 {
            return Err(mismatch(format!("empty matrix {rows} x {cols}")));
        }
        match self.tiling {
            Tiling::Plain => Ok((rows.div_ceil(s0), cols.div_ceil(s1))),
            Tiling::Vertical { period } => {
                if period == 0 || s0 % period != 0 {
                    return Err(mismatch(format!(
                        "period {period} does not divide s0 = {s0}"
                    )));
                }
                if rows > period {
                    return Err(mismatch(format!("{rows} rows exceed the period {period}")));
                }
                Ok((1, cols.div_ceil(s1)))
            }
            Tiling::Horizontal { period } => {
                if period == 0 || s1 % period != 0 {
                    return Err(mismatch(format!(
                        "period {period} does not divide s1 = {s1}"
                    )));
                }
                if cols > period {
                    return Err(mismatch(format!(
                        "{cols} columns exceed the period {period}"
                    )));
                }
                Ok((rows.div_ceil(s0), 1))
            }
        }
    }

    /// The slot values of block `(p, q)` of `m` (zero padded).
    pub(crate) fn pack(&self, m: &Matrix, p: usize, q: usize) -> Vec<f64> {
        let (s0, s1) = (self.block.rows, self.block.cols);
        let mut out = vec![0.0; s0 * s1];
        for r in 0..s0 {
            for l in 0..s1 {
                let (i, j) = match self.tiling {
                    Tiling::Plain => (p * s0 + r, q * s1 + l),
                    Tiling::Vertical { period } => (r % period, q * s1 + l),
                    Tiling::Horizontal { period } => (p * s0 + r, l % period),
                };
                if i < m.rows && j < m.cols {
                    out[r * s1 + l] = m.data[i * m.cols + j];
                }
            }
        }
        out
    }

    /// Where entry `[i, j]` of the matrix is read back: `(block row, block col, slot)` (the
    /// first copy for tiled layouts).
    pub(crate) fn locate(&self, i: usize, j: usize) -> (usize, usize, usize) {
        let (s0, s1) = (self.block.rows, self.block.cols);
        match self.tiling {
            Tiling::Plain => (i / s0, j / s1, (i % s0) * s1 + j % s1),
            Tiling::Vertical { .. } => (0, j / s1, i * s1 + j % s1),
            Tiling::Horizontal { .. } => (i / s0, 0, (i % s0) * s1 + j),
        }
    }
}
