//! Matching kernels with scalar twins (filled in below).
