-- The register of permits' queries at 100,000 permits within the inbox's budget (p95 < 20 ms,
-- `make bench-inbox`, docs/performance.md). A district list is `district = ANY(...)`, which PostgreSQL 15
-- cannot read in valid_until order from permit_register_by_district: a page filtered by state then walked
-- the whole valid_until index (23 ms for a district's review_due permits).
-- A state's permits in validity order, their district at hand: a page by state (and expiring before).
CREATE INDEX permit_register_by_state ON permit_register (state, valid_until, number) INCLUDE (district);
-- Expiring before a date across districts: counted from the index alone.
DROP INDEX permit_register_by_valid_until;
CREATE INDEX permit_register_by_valid_until ON permit_register (valid_until, number) INCLUDE (district, state);
-- The narrowest index for the city's page count.
CREATE INDEX permit_register_by_district_only ON permit_register (district);
