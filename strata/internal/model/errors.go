package model

import "errors"

// The errors Parse wraps. Package strata exports these very values as
// strata.ErrInvalidModel and strata.ErrNoPrimaryKey, so errors.Is holds
// across the boundary.
var (
	ErrInvalidModel = errors.New("strata: invalid model")
	ErrNoPrimaryKey = errors.New("strata: model has no primary_key field")
)
