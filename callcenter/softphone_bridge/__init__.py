"""The SIP edge: pjsua2 in one owner thread, typed commands in, typed events out."""
