-- What each delivering node knows of the destinations it sends to (SPEC S12): connections in
-- use, limits, throttle state and the recipient domains seen behind each, published every few
-- seconds so that `sealpost destinations` shows the whole cluster. A node replaces its own rows
-- whole; rows of a node that stopped age out by updated_at.
CREATE TABLE destination_status (
    node                    TEXT NOT NULL,
    destination             TEXT NOT NULL,
    connections_in_use      INTEGER NOT NULL,
    connections_allowed     INTEGER NOT NULL,
    connection_limit        INTEGER NOT NULL,
    messages_per_connection INTEGER NOT NULL,
    messages_per_minute     INTEGER NOT NULL,
    throttle_level          INTEGER NOT NULL,
    paused_until            INTEGER,
    last_throttle_reply     TEXT,
    domains                 TEXT NOT NULL,
    updated_at              INTEGER NOT NULL,
    PRIMARY KEY (node, destination)
);
