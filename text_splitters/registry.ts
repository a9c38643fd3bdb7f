// Resolution of TEXT_SPLITTING names to classes.
import { DummyLengthCalculator, DummyTextSplitter } from "./dummy.ts";
import { NaiveTextSplitterCalculator } from "./naive.ts";
import { RecursiveCharacterTextSplitter } from "./recursive.ts";
import { TiktokenLengthCalculator } from "./tiktoken.ts";
import type { LengthCalculatorClass, TextSplitterClass } from "./types.ts";

export const splitterClasses: Map<string, TextSplitterClass> = new Map<string, TextSplitterClass>([
  [
    "wagtail_ai.text_splitters.langchain.LangchainRecursiveCharacterTextSplitter",
    RecursiveCharacterTextSplitter,
  ],
  ["wagtail_ai.text_splitters.dummy.DummyTextSplitter", DummyTextSplitter],
  ["recursive", RecursiveCharacterTextSplitter],
  ["RecursiveCharacterTextSplitter", RecursiveCharacterTextSplitter],
  ["dummy", DummyTextSplitter],
  ["DummyTextSplitter", DummyTextSplitter],
]);

export const calculatorClasses: Map<string, LengthCalculatorClass> = new Map<
  string,
  LengthCalculatorClass
>([
  ["wagtail_ai.text_splitters.length.NaiveTextSplitterCalculator", NaiveTextSplitterCalculator],
  ["wagtail_ai.text_splitters.dummy.DummyLengthCalculator", DummyLengthCalculator],
  ["wagtail_ai.text_splitters.length.TiktokenLengthCalculator", TiktokenLengthCalculator],
  ["naive", NaiveTextSplitterCalculator],
  ["NaiveTextSplitterCalculator", NaiveTextSplitterCalculator],
  ["tiktoken", TiktokenLengthCalculator],
  ["TiktokenLengthCalculator", TiktokenLengthCalculator],
  ["dummy", DummyLengthCalculator],
  ["DummyLengthCalculator", DummyLengthCalculator],
]);
