-- The consent ledger is append-only: the database refuses UPDATE, DELETE and TRUNCATE on
-- "ConsentEvent", whoever sends them. (Deleting or re-keying a row that a ledger event references
-- is refused too, since its ON DELETE SET NULL / ON UPDATE CASCADE would update the event.)

-- CreateFunction
CREATE FUNCTION "consent_event_append_only"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ConsentEvent is append-only'
    USING ERRCODE = 'P0001', HINT = 'append a new event instead; ' || TG_OP || ' is refused';
END;
$$;

-- CreateTrigger
CREATE TRIGGER "ConsentEvent_no_update_delete"
BEFORE UPDATE OR DELETE ON "ConsentEvent"
FOR EACH ROW EXECUTE FUNCTION "consent_event_append_only"();

-- CreateTrigger
CREATE TRIGGER "ConsentEvent_no_truncate"
BEFORE TRUNCATE ON "ConsentEvent"
FOR EACH STATEMENT EXECUTE FUNCTION "consent_event_append_only"();
