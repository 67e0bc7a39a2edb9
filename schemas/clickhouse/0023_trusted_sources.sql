-- Only a trusted source's events (scope `trusted`) link profiles by email and phone. Every key that could send events
-- before keeps doing what it did: it becomes trusted. A key made before scopes existed (kind `write`, no scopes) is
-- read as write and trusted already.
ALTER TABLE api_keys UPDATE scopes = arrayPushBack(scopes, 'trusted') WHERE has(scopes, 'write') AND NOT has(scopes, 'trusted');
