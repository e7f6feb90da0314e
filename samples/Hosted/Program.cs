// The hosted sample: WsGen under the .NET Generic Host. Settings come from appsettings.json (section "WsGen"), the
// environment (WsGen__Port=9100) or the command line (--WsGen:Port 9100); logs go to the console; the meter "WsGen" is
// exported by OpenTelemetry to the console every Metrics:ExportIntervalMilliseconds, and to an OTLP collector when
// OTEL_EXPORTER_OTLP_ENDPOINT is set. SIGTERM or Ctrl+C stops the host: every client gets 1001.
//   dotnet run -c Release --project samples/Hosted [-- --WsGen:Port 0]
using Hosted;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using WsGen;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddWsGen(WsGenApp.CreateServer);

int interval = builder.Configuration.GetValue("Metrics:ExportIntervalMilliseconds", 10_000);
var metrics = builder.Services.AddOpenTelemetry().WithMetrics(m => m
    .AddMeter("WsGen")
    .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval));
if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
    metrics.WithMetrics(m => m.AddOtlpExporter());

using var host = builder.Build();
host.Run();
