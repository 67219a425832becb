namespace Recorder.Hub.Delivery;

public static class DeliveryExtensions
{
    public static IHostApplicationBuilder AddDelivery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SentMarks>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SentMarks>());
        builder.Services.AddSingleton<PictureCache>();
        builder.Services.AddSingleton<RawEnvelopes>();
        builder.Services.AddSingleton<Subscriptions>();
        builder.Services.AddSingleton<NotifyListener>();
        builder.Services.AddHostedService<DeliveryService>();
        return builder;
    }
}
