"""A cancellation the app asked for never opens an error dialog."""

from __future__ import annotations

from tests.sandbox.test_e2b_errors import sdk_cancel_error


def test_a_cancel_never_opens_an_error_dialog(make_window, qtbot):
    window = make_window()
    window.messages.show_exception(sdk_cancel_error())
    window.messages.loop_exception_handler(None, {"message": "Task exception", "exception": sdk_cancel_error()})
    assert window.messages.open_boxes == []
