-- DKIM by CNAME delegation (SPEC S11.4). A delegated domain's keys alternate between the two
-- selectors its CNAMEs name, so a selector is taken again once the key that held it has retired:
-- a selector is unique among the domain's unretired keys only.

ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_signing_domain_id_selector_key;
CREATE UNIQUE INDEX signing_keys_selector_in_use ON signing_keys (signing_domain_id, selector)
    WHERE state <> 'retired';
