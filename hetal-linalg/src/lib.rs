//! Encrypted matrices and HETAL's matrix products (DiagABT, DiagATB) over any CKKS slot backend.
