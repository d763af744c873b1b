namespace Tessera.Server.Storage;

/// <summary>Deep copies of stored values (COPY), keeping each value's representation and encoding.</summary>
internal static class ValueCopy
{
    public static object Of(object value) => value switch
    {
        byte[] bytes => bytes.Clone(),
        MutableString mutable => MutableString.From(mutable.Span),
        _ => throw new InvalidOperationException("cannot copy a value of type " + value.GetType().Name),
    };
}
