using System.Runtime.InteropServices;

namespace KernelSim.Cli;

/// <summary>
/// What the process gives a command beyond its writers: the interrupt (SIGINT, SIGTERM) as a cancellation
/// token, and whether stderr is a terminal (for progress). Tests run commands in-process with
/// <see cref="None"/>: never interrupted, stderr captured.
/// </summary>
internal sealed class CliHost : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _exitCode;

    private CliHost(bool errorIsTerminal) => ErrorIsTerminal = errorIsTerminal;

    /// <summary>No signals, stderr not a terminal.</summary>
    public static CliHost None => new(false);

    /// <summary>Cancelled by the first SIGINT or SIGTERM; a second one terminates the process as usual.</summary>
    public CancellationToken Interrupt => _cts.Token;

    /// <summary>The exit code of an interrupted run: 128 + the signal number (130 for SIGINT, 143 for SIGTERM).</summary>
    public int InterruptExitCode => _exitCode == 0 ? 130 : _exitCode;

    public bool ErrorIsTerminal { get; }

    /// <summary>The host of the real process: SIGINT and SIGTERM handlers, stderr checked for a terminal.</summary>
    public static CliHost ForProcess()
    {
        var host = new CliHost(!Console.IsErrorRedirected);
        host.Handle(PosixSignal.SIGINT, 130);
        host.Handle(PosixSignal.SIGTERM, 143);
        return host;
    }

    private void Handle(PosixSignal signal, int exitCode)
    {
        _registrations.Add(PosixSignalRegistration.Create(signal, ctx =>
        {
            if (_cts.IsCancellationRequested) return; // the second signal: default action (terminate)
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
