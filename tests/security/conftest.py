from tests.sipp_cleanup import _stop_leftover_sipp  # noqa: F401
