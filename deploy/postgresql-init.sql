-- Databases for Temporal's persistence and visibility beside the application's own.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
