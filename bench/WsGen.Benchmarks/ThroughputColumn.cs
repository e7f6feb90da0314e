using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace WsGen.Benchmarks;

/// <summary>
/// Bytes per second: the payload bytes one operation handles (the benchmark's <c>Size</c> or <c>PayloadSize</c>
/// parameter) over the mean time of one operation. Decimal units: 1 GB/s is 10^9 bytes per second.
/// </summary>
/// <remarks>
/// The frame reader's operation is one frame (<c>OperationsPerInvoke</c>), so its figure counts payload bytes,
/// not header bytes.
/// </remarks>
internal sealed class ThroughputColumn : IColumn
{
    /// <summary>The parameters that give the payload bytes of one operation.</summary>
    private static readonly string[] SizeParameters = ["Size", "PayloadSize"];

    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "Throughput";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Payload bytes per second (mean); 1 GB/s = 10^9 B/s";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        long? bytes = BytesPerOperation(benchmarkCase);
        if (meanNs is not > 0 || bytes is null)
            return "NA";

        double perSecond = bytes.Value / (meanNs.Value * 1e-9);
        return perSecond >= 1e9
            ? (perSecond / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + " GB/s"
            : (perSecond / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MB/s";
    }

    /// <summary>The payload bytes of one operation, from the case's size parameter; null when it has none.</summary>
    private static long? BytesPerOperation(BenchmarkCase benchmarkCase)
    {
        foreach (string name in SizeParameters)
        {
            if (benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value is int size)
                return size;
        }

        return null;
    }

    public override string ToString() => ColumnName;
}
