//! Container command lines (`docker run ...`, `kubectl exec ...`) parsed into the
//! normalized container fields.
