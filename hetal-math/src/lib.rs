//! Fast, exact RNS polynomial arithmetic: the ring layer under hetal's CKKS.
//!
//! This crate knows nothing about encryption (no keys, scales or levels). It provides word-size
//! moduli with Barrett and Shoup multiplication, NTT-friendly prime generation, negacyclic NTTs
//! (backed by `tfhe-ntt`), RNS bases with CRT and fast basis conversion, RNS polynomials with
//! their representation in the type, automorphisms, and samplers driven by a caller-supplied
//! cryptographic RNG.
