-- Incidents: a step a department refused for good, waiting for a supervisor. Written with the
-- projection (the view's `incident`); resolved when a newer view no longer shows it.
CREATE TABLE incidents (
    application_id  uuid NOT NULL REFERENCES applications ON DELETE CASCADE,
    incident_id     text NOT NULL,
    district        text NOT NULL,
    step            text NOT NULL,
    department      text NOT NULL,
    answer          text NOT NULL,
    opened_at       timestamptz NOT NULL,
    resolved_at     timestamptz,
    resolution      text,
    PRIMARY KEY (application_id, incident_id)
);
CREATE INDEX incidents_open ON incidents (district, opened_at, application_id, incident_id)
    WHERE resolved_at IS NULL;
CREATE INDEX incidents_by_district ON incidents (district, opened_at, application_id, incident_id);
CREATE INDEX incidents_open_by_department ON incidents (department) WHERE resolved_at IS NULL;
