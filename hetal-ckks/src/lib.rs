//! Full-RNS CKKS homomorphic encryption for hetal, and the backend seam the upper layers use.
