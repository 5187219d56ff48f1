//! Polynomial approximation toolkit and HETAL's wide-range softmax, generic over a slot backend.
