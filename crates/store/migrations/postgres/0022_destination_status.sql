-- What each delivering node knows of the destinations it sends to (SPEC S12): connections in
-- use, limits, throttle state and the recipient domains seen behind each, published every few
-- seconds so that `sealpost destinations` shows the whole cluster. A node replaces its own rows
-- whole; rows of a node that stopped age out by updated_at.
CREATE TABLE destination_status (
    node                    TEXT NOT NULL,
    destination             TEXT NOT NULL,
    connections_in_use      BIGINT NOT NULL,
    connections_allowed     BIGINT NOT NULL,
    connection_limit        BIGINT NOT NULL,
    messages_per_connection BIGINT NOT NULL,
    messages_per_minute     BIGINT NOT NULL,
    throttle_level          BIGINT NOT NULL,
    paused_until            BIGINT,
    last_throttle_reply     TEXT,
    domains                 TEXT NOT NULL,
    updated_at              BIGINT NOT NULL,
    PRIMARY KEY (node, destination)
);
