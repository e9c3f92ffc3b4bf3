package database

// Provider is the goose provider, for tests that migrate to a given version.
var Provider = provider
