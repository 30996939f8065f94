package strata

import (
	"fmt"
	"reflect"

	"github.com/AndrewDonelson/strata/strata/internal/model"
)

// RedisPolicy.Encrypt: encrypted fields sealed in Redis too.
//
// Without it an encrypted field is ciphertext in PostgreSQL only: Redis
// (and L1) hold the plaintext, which suits a Redis only the service reaches.
// With it the copy in Redis is sealed like the column, with the same keys,
// bound to "redis:" + the table, the column and the id, so a value copied
// between a row and a Redis entry does not open. L1 still holds plaintext.

// l2Sealing reports whether st seals its encrypted fields in Redis.
func (ds *DataStore) l2Sealing(st *schemaState) bool {
	return st.L2.Encrypt && ds.enc != nil && st.model.Flags&model.FlagEncrypted != 0
}

// sealForL2 returns a copy of the record v points to with its encrypted
// fields sealed; v itself is not changed.
func (ds *DataStore) sealForL2(st *schemaState, v any) (any, error) {
	src := reflect.ValueOf(v).Elem()
	cp := reflect.New(src.Type())
	cp.Elem().Set(src) // only string fields are replaced below
	id := st.pkOf(src)
	for i := range st.model.Fields {
		f := &st.model.Fields[i]
		if !f.Has(model.FlagEncrypted) {
			continue
		}
		fv := fieldOf(cp.Elem(), f)
		sealed, err := ds.enc.seal("redis:"+st.table, f.Column, id, fv.String())
		if err != nil {
			return nil, err
		}
		fv.SetString(sealed)
	}
	return cp.Interface(), nil
}

// openFromL2 opens the encrypted fields of a record decoded from Redis.
func (ds *DataStore) openFromL2(st *schemaState, id string, rec reflect.Value) error {
	for i := range st.model.Fields {
		f := &st.model.Fields[i]
		if !f.Has(model.FlagEncrypted) {
			continue
		}
		fv := fieldOf(rec, f)
		plain, err := ds.enc.open("redis:"+st.table, f.Column, id, fv.String())
		if err != nil {
			return fmt.Errorf("%w: %s %q from redis: %w", ErrDecodeFailed, st.Name, id, err)
		}
		fv.SetString(plain)
	}
	return nil
}
