-- Sales ranking (SPEC §6): the periodic PostgreSQL copy of each day's top products, served when
-- Redis cannot answer, and an index for the operator's view of parked outbox events.
CREATE TABLE product_ranking_backup (
    aggregated_date DATE         NOT NULL,
    ranking         INT          NOT NULL CHECK (ranking >= 1),
    product_id      BIGINT       NOT NULL,
    product_name    VARCHAR(200) NOT NULL,
    sales_count     BIGINT       NOT NULL CHECK (sales_count >= 0),
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregated_date, ranking),
    UNIQUE (aggregated_date, product_id)
);

-- Parked events are rare and wanted by the outbox metrics and the operator (runbook).
CREATE INDEX idx_outbox_parked ON outbox_events (id) WHERE parked;
