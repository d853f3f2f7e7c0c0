import { BarChart, LineChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, AriaComponent, SVGRenderer]);

export interface ChartSeries {
  name: string;
  data: number[];
}

/**
 * A stacked bar chart (ECharts, SVG so its text is in the page). The container is an image to
 * assistive technology, labelled with the chart's title and totals; the same numbers are in the
 * data table the caller puts beside it.
 */
export function BarChartView(props: {
  title: string;
  label: string;
  categories: string[];
  series: ChartSeries[];
  testId: string;
  /** whole numbers on the value axis (counts); false for money */
  integer?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    if (!ref.current) return;
    const c = echarts.init(ref.current, undefined, { renderer: 'svg' });
    chart.current = c;
    const observer = new ResizeObserver(() => c.resize());
    observer.observe(ref.current);
    return () => {
      observer.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(
      {
        aria: { enabled: false },
        animation: false,
        color: ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#0e7490', '#a16207', '#be123c'],
        tooltip: { trigger: 'axis' },
        legend: { type: 'scroll', bottom: 0 },
        grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true },
        xAxis: { type: 'category', data: props.categories },
        yAxis: props.integer ? { type: 'value', minInterval: 1 } : { type: 'value' },
        series: props.series.map((s) => ({ type: 'bar', stack: 'all', name: s.name, data: s.data })),
      },
      true,
    );
  }, [props.categories, props.series, props.integer]);

  return (
    <figure className="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={ref} className="chart-canvas" role="img" aria-label={props.label} data-testid={props.testId} />
    </figure>
  );
}
