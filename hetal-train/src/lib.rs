//! Encrypted softmax-regression training (HETAL), generic over a CKKS slot backend.
