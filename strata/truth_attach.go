package strata

import "github.com/AndrewDonelson/strata/strata/internal/model"

// attachTruth decides, once, where st's records live: the fields each tier
// holds, the PostgreSQL table (queried on the read replica's pool when the
// schema names one), the write-behind queue, and so the truth (truthFor).
func (ds *DataStore) attachTruth(st *schemaState) error {
	st.views = st.model.Tiers(st.l1Truth)
	st.useL1 = st.l1Truth || st.model.Flags&model.FlagOmitL1 == 0
	if err := ds.attachL3(st); err != nil {
		return err
	}
	if st.WriteMode == WriteBehind && st.l3 != nil {
		st.wb = newWriteBehind()
		st.wb.j = ds.newJournal(st)
	}
	st.truth = ds.truthFor(st)
	return nil
}

// startTruthWork starts, once per DataStore, the background work st's
// truth needs: the write-behind flusher, and the journal's claimer.
func (ds *DataStore) startTruthWork(st *schemaState) {
	if st.wb != nil {
		ds.startFlusher()
		if st.wb.j != nil {
			ds.startClaimer()
		}
	}
}

// attachL3 opens the schema's table handle, on its read replica's pool
// when it names one; a schema without PostgreSQL keeps a nil handle.
func (ds *DataStore) attachL3(st *schemaState) error {
	if ds.test.l3 != nil && !st.L3.Disabled {
		st.l3 = ds.test.l3(st)
		return nil
	}
	if ds.l3 == nil || st.L3.Disabled {
		return nil
	}
	db := ds.l3
	if st.L3.ReadReplica != "" {
		st.replica = true
		var err error
		if db, err = ds.replicaDB(st.L3.ReadReplica); err != nil {
			return badSchema(st.Name, "L3.ReadReplica: %v", err)
		}
	}
	tbl, err := db.Table(st.tableDef())
	if err != nil {
		return badSchema(st.Name, "L3: %v", err)
	}
	st.l3 = pgTable{Table: tbl, primary: ds.l3}
	if def := st.tableDef(); !st.replica && rowVersion(st.model) != "" {
		def.Version = rowVersion(st.model)
		vtbl, err := db.Table(def)
		if err != nil {
			return badSchema(st.Name, "L3: %v", err)
		}
		st.l3v = pgTable{Table: vtbl, primary: ds.l3}
	}
	return nil
}

// sourceOfTruthIsL1 reports whether s lives in memory only.
func (ds *DataStore) sourceOfTruthIsL1(s Schema) bool {
	hasL3 := ds.cfg.hasPostgres() || ds.test.l3 != nil
	return !ds.cfg.hasRedis() && (!hasL3 || s.L3.Disabled)
}
