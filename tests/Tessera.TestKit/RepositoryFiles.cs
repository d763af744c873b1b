namespace Tessera.TestKit;

/// <summary>Files of the repository the tests run from (client-library scripts and their installed packages).</summary>
public static class RepositoryFiles
{
    /// <summary>The repository's root: the first folder above the test binaries that holds Tessera.slnx.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tessera.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("the tests do not run inside the repository");
    }
}
