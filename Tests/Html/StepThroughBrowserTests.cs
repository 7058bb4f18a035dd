using System.Collections.ObjectModel;
using System.Diagnostics;
using KernelSim.Tests.Cli;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace KernelSim.Tests.Html;

/// <summary>
/// The dax-bypass step-through in a real browser: headless Chromium (Debian's chromium and chromium-driver,
/// installed by .ci/browser) opens the page from file:// with no network. The diagrams must be drawn as SVG,
/// the console must stay free of errors, and the release selector must change the result shown. A screenshot
/// is attached to the test. Without Chromium the test is skipped, saying why.
/// </summary>
[TestFixture]
[NonParallelizable]
public class StepThroughBrowserTests
{
    private static readonly TimeSpan RenderTimeout = TimeSpan.FromSeconds(15);

    [Test]
    public void DaxBypassPage_DrawsSvgDiagrams_LogsNoErrors_AndTheReleaseSelectorChangesTheResult()
    {
        var (chromium, driverDir) = FindChromium();
        var dir = Path.Combine(Path.GetTempPath(), "kernelsim-html-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var page = Path.Combine(dir, "dax-bypass.html");
        var (code, _, err) = CliRun.Invoke("walkthrough", "dax-bypass", "--html", page, "--profiles", "4.17,5.10,6.12");
        Assert.That(code, Is.EqualTo(0), err);

        var options = new ChromeOptions { BinaryLocation = chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1800",
            "--no-first-run", "--disable-extensions", "--disable-background-networking");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        var service = ChromeDriverService.CreateDefaultService(driverDir, "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        using var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(30));
        try
        {
            driver.Navigate().GoToUrl(new Uri(page).AbsoluteUri);
            WaitForDiagrams(driver);

            // 1. Every visible diagram is an SVG, the block path and the DAX path side by side in each scenario.
            var pairs = Visible(driver, ".side-by-side pre.mermaid");
            Assert.That(pairs, Has.Count.EqualTo(4), "two scenarios x (block path, DAX path)");
            foreach (var pre in Visible(driver, "pre.mermaid"))
                Assert.That(pre.FindElements(By.CssSelector("svg")), Has.Count.EqualTo(1), "a visible diagram was not drawn as SVG");
            // On 4.17 the block path copies with memcpy_mcsafe; the DAX path with the plain _copy_to_iter, and panics.
            // (Mermaid wraps long notes into lines: compare with whitespace collapsed.)
            Assert.That(SvgText(pairs[0]), Does.Contain("memcpy_mcsafe"));
            Assert.That(SvgText(pairs[1]), Does.Contain("_copy_to_iter").And.Contain("did not return - panic: Fatal local machine check"));

            // 2. The release selector: on 4.17 (as written) the DAX read panics; on 6.12 the same scenario reads 4160 bytes.
            const string daxRead = "article[data-scenario='dax-bypass-4.17'] div.step[data-step='6']";
            var before = Visible(driver, daxRead + " .result").Single().Text;
            Assert.That(before, Does.Contain("panic: Fatal local machine check"));
            driver.FindElement(By.CssSelector("#release option[value='6.12']")).Click();
            WaitForDiagrams(driver);
            var step = Visible(driver, daxRead).Single();
            Assert.Multiple(() =>
            {
                Assert.That(step.FindElement(By.CssSelector(".result")).Text, Is.EqualTo("= 4160"));
                Assert.That(step.GetAttribute("class"), Does.Contain("differs"), "the difference from the file's own release is highlighted");
                Assert.That(step.FindElement(By.CssSelector(".was")).Text, Does.StartWith("as written (Linux 4.17): did not return: panic"));
            });
            foreach (var pre in Visible(driver, "pre.mermaid"))
                Assert.That(pre.FindElements(By.CssSelector("svg")), Has.Count.EqualTo(1), "a diagram of the 6.12 runs was not drawn");

            // 3. Nothing went wrong in the console (Mermaid reports parse and render failures there).
            var errors = driver.Manage().Logs.GetLog(LogType.Browser).Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message).ToList();
            Assert.That(errors, Is.Empty);

            var pair = Visible(driver, ".pair").First();
            ((IJavaScriptExecutor)driver).ExecuteScript("arguments[0].scrollIntoView(true); window.scrollBy(0, -90);", pair);
            var shot = Path.Combine(dir, "dax-bypass-6.12.png");
            driver.GetScreenshot().SaveAsFile(shot);
            TestContext.AddTestAttachment(shot, "the dax-bypass step-through on Linux 6.12: block path and DAX path side by side");
        }
        finally
        {
            driver.Quit();
        }
    }

    private static string SvgText(IWebElement pre) =>
        System.Text.RegularExpressions.Regex.Replace(pre.FindElement(By.CssSelector("svg")).Text, @"\s+", " ");

    private static ReadOnlyCollection<IWebElement> Visible(IWebDriver driver, string css) =>
        new(driver.FindElements(By.CssSelector("section.run:not([hidden]) " + css)).ToList());

    private static void WaitForDiagrams(IWebDriver driver)
    {
        var sw = Stopwatch.StartNew();
        while (driver.FindElement(By.TagName("body")).GetAttribute("data-diagrams") != "done")
        {
            if (sw.Elapsed > RenderTimeout) Assert.Fail($"the diagrams were not drawn within {RenderTimeout.TotalSeconds} s");
            Thread.Sleep(100);
        }
    }

    /// <summary>Debian's chromium and chromedriver on PATH, or Assert.Ignore with the reason.</summary>
    private static (string Chromium, string DriverDir) FindChromium()
    {
        var chromium = OnPath("chromium") ?? OnPath("chromium-browser");
        var driver = OnPath("chromedriver");
        if (chromium == null || driver == null)
            Assert.Ignore($"headless Chromium is not installed ({(chromium == null ? "no chromium" : "no chromedriver")} on PATH); .ci/browser installs Debian's chromium and chromium-driver");
        return (chromium!, Path.GetDirectoryName(driver!)!);
    }

    private static string? OnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var f = Path.Combine(dir, name);
            if (File.Exists(f)) return f;
        }
        return null;
    }
}
