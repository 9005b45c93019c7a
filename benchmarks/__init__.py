"""jitbot's benchmarks: ``python -m benchmarks [--quick] [--only NAME ...]``.

Each benchmark is a module with one ``run(opts, shared) -> list[Row]`` function:

=============  ==========================================================================
name           what
=============  ==========================================================================
ack            HTTP ack latency of ``/jit``, an Approve click and a form submission (1 and 20
               senders), and the limit query and replay INSERT before an ack alone
grant          Approve click -> assignment visible in moto, over the same calls via boto3
aws-calls      sso-admin / identitystore / organizations calls per request lifecycle
expiry-lag     session end -> assignment gone, real scheduler, SQLite and PostgreSQL
mass-expiry    1,000 sessions due within a minute, AWS throttled like Identity Center
home           App Home publish time and view size, 10 to 10,000 requests, 500 accounts
memory         resident set size of an idle bot and after the mass expiry
approver-      a custom set's approver warnings (and validation) on the worst 3,000-character
warnings       inline policies, in this process
=============  ==========================================================================

The bot under test runs in a child process of its own (:mod:`benchmarks.host`): the
real runtime, Bolt app and waitress server, as in production. AWS (moto's server, from
:func:`sim.aws_world.start_moto_server`), the fake Slack Web API and the simulated people
run in the parent, so their CPU time does not count as the bot's (it still shares the
machine's cores with it).
"""
