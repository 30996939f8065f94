-- Accounts, created in a transaction with their history row.
CREATE TABLE accounts (
    id    TEXT PRIMARY KEY,
    email TEXT NOT NULL
);
INSERT INTO accounts (id, email) VALUES ('a1', 'a1@example.com');
