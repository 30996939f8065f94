-- strata:no-transaction
-- CREATE INDEX CONCURRENTLY refuses to run inside a transaction block.
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_idx ON accounts (email);
