namespace Tessera.Core.Threading;

/// <summary>
/// Background threads that cannot take the process down. .NET ends the process when an exception escapes a
/// thread, a timer callback or a thread-pool item; every one the node and the proxy start goes through here, so an
/// unexpected failure is handed to <c>onFailure</c> (which logs it and fails that one job: a save, a link, a
/// connection) and the process keeps serving.
/// </summary>
public static class GuardedThread
{
    /// <summary>A background thread (not started) running <paramref name="body"/> under the guard.</summary>
    public static Thread Create(string name, Action body, Action<Exception> onFailure, int maxStackSize = 0)
        => new(() => Run(body, onFailure), maxStackSize) { Name = name, IsBackground = true };

    /// <summary>Creates and starts a guarded background thread.</summary>
    public static Thread Start(string name, Action body, Action<Exception> onFailure)
    {
        var thread = Create(name, body, onFailure);
        thread.Start();
        return thread;
    }

    /// <summary>Queues <paramref name="body"/> on the thread pool under the guard.</summary>
    public static void Queue(Action body, Action<Exception> onFailure)
        => ThreadPool.QueueUserWorkItem(_ => Run(body, onFailure));

    /// <summary>Runs <paramref name="body"/>, handing an exception to <paramref name="onFailure"/> instead of letting it escape.</summary>
    public static void Run(Action body, Action<Exception> onFailure)
    {
        try
        {
            body();
        }
        catch (Exception e)
        {
            try
            {
                onFailure(e);
            }
            catch (Exception)
            {
                // The report itself failed (a logger gone at shutdown): nothing is left to tell.
            }
        }
    }
}
