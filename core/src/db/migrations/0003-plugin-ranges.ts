// Migration 3: a pool's desired plugin remembers the range it was enabled at, so a version
// published later within the range is rolled out to the pool (plugin-catalog.ts,
// followRanges). Rows enabled before this migration have none: they stay at their version
// until enabled again, as before.
export default 'ALTER TABLE desired_plugins ADD COLUMN range text'
