"""The reviewer's workbench command: review-server."""

from __future__ import annotations

import typer

from creditml.cli._app import app, console, handles_errors


@app.command("review-server")
@handles_errors
def review_server(
    host: str = typer.Option("127.0.0.1", help="address to listen on (keep loopback unless behind TLS)"),
    port: int = typer.Option(8100, help="port"),
    secure_cookies: bool = typer.Option(False, "--secure-cookies", help="send the session cookie over https only "
                                                                        "(set when served behind TLS)"),
    warm: bool = typer.Option(True, "--warm/--no-warm", help="build the queue's reports in the background at start"),
) -> None:
    """Serve the reviewer's workbench: queue, reports, findings, signed decisions, PDF export."""
    import uvicorn

    from creditml.review import ReviewSettings, create_app

    app_ = create_app(ReviewSettings(secure_cookies=secure_cookies, warm_reports=warm))
    console.print(f"review workbench on http://{host}:{port}/ (sign in with a governance identity)")
    uvicorn.run(app_, host=host, port=port, log_level="info")
