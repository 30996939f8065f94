package strata

// truthReader reads records from a schema's truth, below L1.
type truthReader interface{}
