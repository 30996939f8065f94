package strata

// truthWriter stores and removes records in a schema's truth and keeps the
// caches above it coherent.
type truthWriter interface{}
