using System.Runtime.InteropServices;

namespace KernelSim.Cli;

/// <summary>
/// What the process gives a command beyond its writers: the interrupt (SIGINT, SIGTERM) as a cancellation
/// token, and whether stderr is a terminal (for progress). A command that finishes its work cleanly on an
/// interrupt (campaign) asks for the token with <see cref="WatchInterrupt"/>; in every other command the signal
/// keeps its default action and ends the process at once (exit status 130 or 143 in the shell). Tests run
/// commands in-process with <see cref="None"/>: never interrupted, stderr captured.
/// </summary>
internal sealed class CliHost : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _exitCode;
    private volatile bool _watched;

    private CliHost(bool errorIsTerminal) => ErrorIsTerminal = errorIsTerminal;

    /// <summary>No signals, stderr not a terminal.</summary>
    public static CliHost None => new(false);

    /// <summary>A host whose interrupt has already come (as if by SIGINT): a test of how a command stops.</summary>
    internal static CliHost AlreadyInterrupted(int exitCode)
    {
        var host = new CliHost(false) { _exitCode = exitCode };
        host._cts.Cancel();
        return host;
    }

    /// <summary>
    /// From now on the first SIGINT or SIGTERM cancels the returned token instead of ending the process; a second
    /// one terminates the process as usual.
    /// </summary>
    public CancellationToken WatchInterrupt()
    {
        _watched = true;
        return _cts.Token;
    }

    /// <summary>The exit code of an interrupted run: 128 + the signal number (130 for SIGINT, 143 for SIGTERM).</summary>
    public int InterruptExitCode => _exitCode == 0 ? ExitCodes.Interrupted : _exitCode;

    public bool ErrorIsTerminal { get; }

    /// <summary>The host of the real process: SIGINT and SIGTERM handlers, stderr checked for a terminal.</summary>
    public static CliHost ForProcess()
    {
        var host = new CliHost(!Console.IsErrorRedirected);
        host.Handle(PosixSignal.SIGINT, ExitCodes.Interrupted);
        host.Handle(PosixSignal.SIGTERM, ExitCodes.Terminated);
        return host;
    }

    private void Handle(PosixSignal signal, int exitCode)
    {
        _registrations.Add(PosixSignalRegistration.Create(signal, ctx =>
        {
            // Not watched, or the second signal: the default action (terminate).
            if (!_watched || _cts.IsCancellationRequested) return;
            ctx.Cancel = true;
            _exitCode = exitCode;
            _cts.Cancel();
        }));
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
