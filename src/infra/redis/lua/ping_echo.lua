-- Smoke-test script: returns its first argument. Used by the client's EVALSHA/NOSCRIPT tests.
return ARGV[1]
